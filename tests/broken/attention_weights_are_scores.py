"""eager_attention_forward returns the raw scores (before the softmax) as attention weights."""

import torch

from layer_conformance.reference import attention as _ref

sdpa_attention_forward = _ref.sdpa_attention_forward


def eager_attention_forward(module, query, key, value, attention_mask, scaling, dropout=0.0, **kwargs):
    out, _ = _ref.eager_attention_forward(module, query, key, value, attention_mask, scaling, dropout)
    groups = getattr(module, "num_key_value_groups", 1)
    scores = torch.matmul(query, _ref.repeat_kv(key, groups).transpose(-2, -1)) * scaling
    return out, scores


KILLED_BY = ["test_attention.py::test_weights_are_distributions_zero_where_masked"]
