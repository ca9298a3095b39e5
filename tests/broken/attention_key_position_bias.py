"""eager_attention_forward adds a small bias growing with the key position (attention no longer a set operation)."""

import torch

from layer_conformance.reference import attention as _ref

sdpa_attention_forward = _ref.sdpa_attention_forward


def eager_attention_forward(module, query, key, value, attention_mask, scaling, dropout=0.0, **kwargs):
    kv_len = key.shape[-2]
    bias = 0.3 * torch.arange(kv_len, dtype=query.dtype, device=query.device)
    mask = bias if attention_mask is None else attention_mask + bias
    return _ref.eager_attention_forward(module, query, key, value, mask, scaling, dropout)


KILLED_BY = ["test_attention.py::test_permuting_keys_and_values_together_changes_nothing"]
