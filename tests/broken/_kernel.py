"""Base of the broken attention kernels: each module registers one kernel under the key ``kernel`` in an
``AttentionInterface`` of its own (and its mask builder in an ``AttentionMaskInterface`` of its own), as a
kernel author registers one in transformers' registries, and declares its capabilities in the
``ATTENTION_BACKENDS`` hook.  ``tests/test_kills.py`` selects it with ``--attention-backend kernel``.

:func:`correct_kernel` is the documented attention with every feature: additive masks, weights, dropout in
training mode, soft-capping and sinks; each broken module changes one thing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from layer_conformance.reference import eager_mask
from layer_conformance.reference.attention import repeat_kv
from layer_conformance.reference.registry import Registry

KEY = "kernel"

#: What the correct kernel declares (layer_conformance.contract.Backend fields).
CAPABILITIES: dict[str, Any] = {
    "builder": KEY,
    "mask": "additive",
    "weights": "weights",
    "dropout": "training",
    "softcap": "supported",
    "sinks": "supported",
}


def correct_kernel(module, query, key, value, attention_mask, scaling=None, dropout=0.0, softcap=None, s_aux=None,
                   **kwargs):  # fmt: skip
    groups = getattr(module, "num_key_value_groups", 1)
    key, value = repeat_kv(key, groups), repeat_kv(value, groups)
    scaling = query.shape[-1] ** -0.5 if scaling is None else scaling
    scores = query @ key.transpose(-2, -1) * scaling
    if softcap is not None:
        scores = softcap * torch.tanh(scores / softcap)
    if attention_mask is not None:
        scores = scores + attention_mask
    if s_aux is not None:
        sink = s_aux.view(1, -1, 1, 1).expand(*scores.shape[:-1], 1).to(scores.dtype)
        weights = torch.cat([scores, sink], dim=-1).softmax(-1, dtype=torch.float32)[..., :-1].to(query.dtype)
    else:
        weights = scores.softmax(-1, dtype=torch.float32).to(query.dtype)
    weights = torch.nn.functional.dropout(weights, p=dropout, training=module.training)
    return (weights @ value).transpose(1, 2).contiguous(), weights


def registries(kernel: Callable[..., Any], builder: Callable[..., Any] = eager_mask) -> tuple[type, type]:
    """An AttentionInterface and an AttentionMaskInterface of their own holding ``kernel`` and ``builder``."""
    attention = type("AttentionInterface", (Registry,), {"_global_mapping": {KEY: kernel}})
    masks = type("AttentionMaskInterface", (Registry,), {"_global_mapping": {KEY: builder}})
    return attention, masks
