"""sdpa_attention_forward reads ``module.is_causal`` before its ``is_causal`` argument: a decoder module
called with ``is_causal=False`` (a model switching causality per input, as CLIP's text and vision towers
do) stays causal (transformers #41692 made the argument take precedence)."""

from layer_conformance.reference import attention as _ref

eager_attention_forward = _ref.eager_attention_forward


def sdpa_attention_forward(module, query, key, value, attention_mask, dropout=0.0, scaling=None, is_causal=None, **kw):
    if hasattr(module, "is_causal"):
        is_causal = module.is_causal
    return _ref.sdpa_attention_forward(module, query, key, value, attention_mask, dropout, scaling, is_causal, **kw)


KILLED_BY = ["test_attention.py::test_sdpa_without_mask_is_causal_unless_turned_off"]
