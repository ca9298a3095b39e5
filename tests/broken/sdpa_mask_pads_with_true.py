"""sdpa_mask pads a 2-D mask shorter than the keys with True (attended) instead of False: the key positions past
the 2-D mask, which hold no token, are attended."""

import torch

from layer_conformance.reference import masks as _ref
from layer_conformance.reference.masks import causal_mask_function  # noqa: F401


def sdpa_mask(batch_size, q_length, kv_length, q_offset=0, kv_offset=0, attention_mask=None, **kwargs):
    end = kv_offset + kv_length
    if attention_mask is not None and attention_mask.shape[-1] < end:
        pad = torch.ones(attention_mask.shape[0], end - attention_mask.shape[-1], dtype=torch.bool)
        attention_mask = torch.cat([attention_mask, pad.to(attention_mask.device)], dim=-1)
    return _ref.sdpa_mask(batch_size, q_length, kv_length, q_offset, kv_offset, attention_mask=attention_mask, **kwargs)


KILLED_BY = ["test_masks.py::test_sdpa_mask_equals_truth_table"]
