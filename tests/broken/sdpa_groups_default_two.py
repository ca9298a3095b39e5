"""sdpa_attention_forward assumes two key/value groups when the module does not say."""

import torch

from layer_conformance.reference import attention as _ref

eager_attention_forward = _ref.eager_attention_forward


def sdpa_attention_forward(module, query, key, value, attention_mask, dropout=0.0, scaling=None, is_causal=None, **kw):
    groups = getattr(module, "num_key_value_groups", 2)
    key, value = _ref.repeat_kv(key, groups), _ref.repeat_kv(value, groups)
    causal = getattr(module, "is_causal", True) if is_causal is None else is_causal
    causal = causal and attention_mask is None and query.shape[2] > 1
    out = torch.nn.functional.scaled_dot_product_attention(
        query, key, value, attn_mask=attention_mask, dropout_p=dropout, scale=scaling, is_causal=causal, enable_gqa=True
    )
    return out.transpose(1, 2).contiguous(), None


KILLED_BY = ["test_attention.py::test_sdpa_module_without_groups_attribute_repeats_nothing"]
