"""sdpa_attention_forward is causal whenever there is no mask, ignoring module.is_causal and is_causal=False."""

from layer_conformance.reference import attention as _ref

eager_attention_forward = _ref.eager_attention_forward


def sdpa_attention_forward(module, query, key, value, attention_mask, dropout=0.0, scaling=None, is_causal=None, **kw):
    return _ref.sdpa_attention_forward(module, query, key, value, attention_mask, dropout, scaling, is_causal=True)


KILLED_BY = ["test_attention.py::test_sdpa_without_mask_is_causal_unless_turned_off"]
