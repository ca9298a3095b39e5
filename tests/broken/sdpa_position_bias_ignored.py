"""sdpa_attention_forward accepts ``position_bias`` but never adds it to the scores."""

from layer_conformance.reference import attention as _ref


def sdpa_attention_forward(
    module, query, key, value, attention_mask, dropout=0.0, scaling=None, is_causal=None, position_bias=None, **kwargs
):
    return _ref.sdpa_attention_forward(module, query, key, value, attention_mask, dropout, scaling, is_causal)


KILLED_BY = ["test_attention.py::test_sdpa_position_bias_is_added_to_the_scores"]
