"""sdpa_attention_forward with a ``position_bias`` uses the bias as the whole mask: the attention mask (and the
causal default) is dropped, so masked keys are attended."""

from layer_conformance.reference import attention as _ref


def sdpa_attention_forward(
    module, query, key, value, attention_mask, dropout=0.0, scaling=None, is_causal=None, position_bias=None, **kwargs
):
    if position_bias is not None:
        attention_mask, is_causal = position_bias, False
    return _ref.sdpa_attention_forward(module, query, key, value, attention_mask, dropout, scaling, is_causal)


KILLED_BY = ["test_attention.py::test_sdpa_position_bias_is_added_to_the_scores"]
