"""sdpa_attention_forward detaches the values: the output is right, but no gradient reaches ``value``."""

from layer_conformance.reference import attention as _ref

eager_attention_forward = _ref.eager_attention_forward


def sdpa_attention_forward(module, query, key, value, attention_mask, dropout=0.0, scaling=None, is_causal=None, **kw):
    return _ref.sdpa_attention_forward(module, query, key, value.detach(), attention_mask, dropout, scaling, is_causal,
                                       **kw)  # fmt: skip


KILLED_BY = [
    "test_attention.py::test_eager_equals_sdpa_values_and_gradients",
    "test_attention.py::test_gradients_match_the_definition",
]
