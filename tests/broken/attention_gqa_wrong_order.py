"""sdpa_attention_forward repeats key/value heads as a block (h % kv_heads) instead of in place (h // groups)."""

import torch

from layer_conformance.reference import attention as _ref

eager_attention_forward = _ref.eager_attention_forward


def sdpa_attention_forward(module, query, key, value, attention_mask, dropout=0.0, scaling=None, is_causal=None, **kw):
    groups = getattr(module, "num_key_value_groups", 1)
    key, value = key.repeat(1, groups, 1, 1), value.repeat(1, groups, 1, 1)
    causal = getattr(module, "is_causal", True) if is_causal is None else is_causal
    causal = causal and attention_mask is None and query.shape[2] > 1
    out = torch.nn.functional.scaled_dot_product_attention(
        query, key, value, attn_mask=attention_mask, scale=scaling, is_causal=causal
    )
    return out.transpose(1, 2).contiguous(), None


KILLED_BY = ["test_attention.py::test_matches_float64_definition"]
