"""Attention functions and their registry.

Both functions take ``(module, query, key, value, attention_mask, ...)`` with
query ``[batch, heads, q_len, head_dim]`` and key/value
``[batch, kv_heads, kv_len, head_dim]``, where ``heads = kv_heads *
module.num_key_value_groups`` (query head ``h`` reads key/value head
``h // groups``), and return ``(output [batch, q_len, heads, head_dim], weights)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from .registry import Registry

__all__ = ["AttentionInterface", "eager_attention_forward", "repeat_kv", "sdpa_attention_forward"]


def repeat_kv(states: torch.Tensor, groups: int) -> torch.Tensor:
    """``[b, kv_heads, s, d] -> [b, kv_heads * groups, s, d]``, each head repeated ``groups`` times in place."""
    if groups == 1:
        return states
    return states.repeat_interleave(groups, dim=1)


def _groups(module: nn.Module) -> int:
    return int(getattr(module, "num_key_value_groups", 1) or 1)


def eager_attention_forward(
    module: nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float,
    dropout: float = 0.0,
    **kwargs,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``softmax(query @ key^T * scaling + attention_mask) @ value``, the softmax in float32.

    ``attention_mask`` is additive (0 where attended, a large negative number
    where masked), broadcast to ``[batch, heads, q_len, kv_len]``; the attention
    weights are returned in the query's dtype.
    """
    groups = _groups(module)
    key, value = repeat_kv(key, groups), repeat_kv(value, groups)
    scores = torch.matmul(query, key.transpose(-2, -1)) * scaling
    if attention_mask is not None:
        if attention_mask.dtype == torch.bool:
            attention_mask = torch.where(
                attention_mask, torch.zeros((), dtype=scores.dtype, device=scores.device), torch.finfo(scores.dtype).min
            )
        scores = scores + attention_mask
    weights = torch.softmax(scores, dim=-1, dtype=torch.float32).to(query.dtype)
    weights = nn.functional.dropout(weights, p=dropout, training=module.training)
    output = torch.matmul(weights, value).transpose(1, 2).contiguous()
    return output, weights


def sdpa_attention_forward(
    module: nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    dropout: float = 0.0,
    scaling: float | None = None,
    is_causal: bool | None = None,
    position_bias: torch.Tensor | None = None,
    **kwargs,
) -> tuple[torch.Tensor, None]:
    """Attention through ``torch.nn.functional.scaled_dot_product_attention``; weights are None.

    ``attention_mask`` may be boolean (True where attended) or additive.  With no
    mask and more than one query the attention is causal (aligned to the upper
    left) unless ``is_causal=False`` is passed or ``module.is_causal`` is False.
    Logit soft-capping is not supported: a ``softcap`` raises ValueError.
    ``position_bias`` (broadcastable to ``[batch, heads, q_len, kv_len]``, a
    learned relative-position bias) is added to the scores of the attended keys;
    masked keys stay masked.
    """
    if kwargs.get("softcap") is not None:
        raise ValueError("sdpa attention does not support softcap: use eager or flex_attention")
    groups = _groups(module)
    key, value = repeat_kv(key, groups), repeat_kv(value, groups)
    if is_causal is None:
        is_causal = getattr(module, "is_causal", True)
    is_causal = bool(is_causal) and attention_mask is None and query.shape[2] > 1
    if position_bias is not None:  # one additive mask: the bias where attended, the dtype's minimum elsewhere
        q_len, kv_len = query.shape[2], key.shape[2]
        keep = attention_mask
        if keep is None and is_causal:
            keep = torch.ones(q_len, kv_len, dtype=torch.bool, device=query.device).tril()
        if keep is None:
            attention_mask = position_bias
        elif keep.dtype == torch.bool:
            attention_mask = torch.where(keep, position_bias, torch.finfo(query.dtype).min)
        else:
            attention_mask = keep + position_bias
        is_causal = False
    output = nn.functional.scaled_dot_product_attention(
        query, key, value, attn_mask=attention_mask, dropout_p=dropout, scale=scaling, is_causal=is_causal
    )
    return output.transpose(1, 2).contiguous(), None


class AttentionInterface(Registry):
    """Registry of attention functions by implementation name."""

    _global_mapping = {"sdpa": sdpa_attention_forward}

    def get_interface(self, attn_implementation: str | None, default: Callable[..., Any]) -> Callable[..., Any]:
        """The attention function a model whose config names ``attn_implementation`` uses: the entry of that
        key (a local one first); for ``"eager"`` (kept by each model, not registered) or ``None`` (a module
        used on its own), ``default`` unless an entry of that key exists; any other key is a KeyError."""
        if attn_implementation is not None and attn_implementation != "eager" and attn_implementation not in self:
            raise KeyError(
                f"{attn_implementation!r} is not an attention implementation registered in AttentionInterface"
            )
        return self.get(attn_implementation, default)  # type: ignore[arg-type]
