"""sdpa_attention_forward, with no mask, aligns its causal mask to the lower right (the last query sees the last
key): with fewer queries than keys the first queries see keys past their position, against sdpa's documented
upper-left alignment, which the callers rely on when they skip a mask."""

import torch

from layer_conformance.reference import attention as _ref

eager_attention_forward = _ref.eager_attention_forward


def sdpa_attention_forward(module, query, key, value, attention_mask, dropout=0.0, scaling=None, is_causal=None, **kw):
    if is_causal is None:
        is_causal = getattr(module, "is_causal", True)
    q_len, kv_len = query.shape[2], key.shape[2]
    if attention_mask is None and is_causal and q_len > 1:
        attention_mask = torch.ones(q_len, kv_len, dtype=torch.bool, device=query.device).tril(kv_len - q_len)
    return _ref.sdpa_attention_forward(module, query, key, value, attention_mask, dropout, scaling, False, **kw)


KILLED_BY = [
    "test_attention.py::test_matches_float64_definition",
    "test_attention.py::test_sdpa_without_mask_is_causal_unless_turned_off",
]
