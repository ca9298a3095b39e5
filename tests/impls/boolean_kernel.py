"""A kernel author's first registration: an attention kernel that reads boolean masks (True attends), registered
with the reference's ``sdpa_mask`` as its builder, and nothing declared (no ``layer_conformance_backend``, no
``ATTENTION_BACKENDS``).  Paired with sdpa_mask, it reads None as sdpa does (causal, aligned to the upper left,
for several queries, unless ``module.is_causal`` or ``is_causal`` says not).  The suite must give it the masks its builder makes (booleans, None for a plain causal
mask), as its models would: every attention property passes on it (``tests/test_backends.py``)."""

from __future__ import annotations

import torch

from layer_conformance.reference import sdpa_mask
from layer_conformance.reference.attention import repeat_kv
from layer_conformance.reference.registry import Registry


def boolean_kernel(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs):
    if dropout > 0 or kwargs.get("softcap") is not None or kwargs.get("s_aux") is not None:
        raise ValueError("boolean_kernel supports no dropout, softcap or s_aux (sinks)")
    groups = getattr(module, "num_key_value_groups", 1)
    key, value = repeat_kv(key, groups), repeat_kv(value, groups)
    scaling = query.shape[-1] ** -0.5 if scaling is None else scaling
    scores = (query @ key.transpose(-2, -1) * scaling).float()
    is_causal = kwargs.get("is_causal", getattr(module, "is_causal", True))
    if attention_mask is None and query.shape[2] > 1 and is_causal:  # sdpa_mask's None: sdpa's is_causal
        attention_mask = torch.ones(scores.shape[-2:], dtype=torch.bool, device=scores.device).tril()
    if attention_mask is not None:
        scores = scores.masked_fill(~attention_mask, float("-inf"))
    weights = scores.softmax(-1).nan_to_num(0.0).to(query.dtype)
    return (weights @ value).transpose(1, 2).contiguous(), None


AttentionInterface = type("AttentionInterface", (Registry,), {"_global_mapping": {"boolean_kernel": boolean_kernel}})
AttentionMaskInterface = type("AttentionMaskInterface", (Registry,), {"_global_mapping": {"boolean_kernel": sdpa_mask}})
