"""The mask entry points models call: ``create_causal_mask`` and its siblings, and packed sequences.

A model does not call a mask builder itself: its forward calls an entry point with its config, its
input embeddings, the 2-D padding mask and its position ids.  The entry point picks the builder
registered under ``config._attn_implementation`` in ``AttentionMaskInterface`` (a key with none gets
no mask: such a backend builds its own), sizes the mask from the embeddings, and hands the builder
the mask function of the layer kind -- causal, sliding window, chunked or bidirectional -- with the
model's overlays (``or_mask_function``, ``and_mask_function``) and, for packed sequences (position
ids that restart within a row, no padding mask), each token confined to its own sequence, counted
from that sequence's start.  The entry points take no cache (the suite judges them without one):
queries and keys are the same tokens.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from .masks import (
    AttentionMaskInterface,
    and_masks,
    bidirectional_mask_function,
    causal_mask_function,
    chunked_causal_mask_function,
    or_masks,
    sliding_window_causal_mask_function,
)

__all__ = [
    "create_bidirectional_mask",
    "create_causal_mask",
    "create_chunked_causal_mask",
    "create_masks_for_generate",
    "create_sliding_window_causal_mask",
    "find_packed_sequence_indices",
    "packed_sequence_mask_function",
]

MaskFunction = Callable[..., torch.Tensor]


def find_packed_sequence_indices(position_ids: torch.Tensor) -> torch.Tensor | None:
    """Per token ``[batch, seq]``, the index of its sequence within the row: a new sequence starts wherever a
    position is not the previous one plus 1.  None when every row holds a single sequence."""
    restarts = position_ids[:, 1:] != position_ids[:, :-1] + 1
    indices = torch.cat((torch.zeros_like(position_ids[:, :1]), restarts.long().cumsum(-1)), dim=-1)
    if not bool(restarts.any()):
        return None
    return indices


def packed_sequence_mask_function(packed_sequence_mask: torch.Tensor) -> MaskFunction:
    """Mask function: q and kv belong to the same packed sequence."""

    def same_sequence(batch_idx, head_idx, q_idx, kv_idx):
        return packed_sequence_mask[batch_idx, q_idx] == packed_sequence_mask[batch_idx, kv_idx]

    return same_sequence


def _at_positions(mask_function: MaskFunction, position_ids: torch.Tensor) -> MaskFunction:
    """``mask_function`` evaluated at the tokens' positions within their packed sequences, not at their
    indices in the row."""

    def at_positions(batch_idx, head_idx, q_idx, kv_idx):
        return mask_function(batch_idx, head_idx, position_ids[batch_idx, q_idx], position_ids[batch_idx, kv_idx])

    return at_positions


def _builder(config: Any) -> Callable[..., Any] | None:
    """The builder of ``config._attn_implementation`` (registered for every instance), or None."""
    return AttentionMaskInterface._global_mapping.get(config._attn_implementation)


def _is_prepared(attention_mask: Any) -> bool:
    """A mask already in 4-D form (a tensor or a BlockMask): the model's own, passed through."""
    shape = getattr(attention_mask, "shape", None)
    return shape is not None and len(shape) == 4


def _build(
    config: Any,
    inputs_embeds: torch.Tensor,
    attention_mask: torch.Tensor | None,
    mask_function: MaskFunction,
    *,
    causal: bool,
    position_ids: torch.Tensor | None = None,
    or_mask_function: MaskFunction | None = None,
    and_mask_function: MaskFunction | None = None,
    keys: torch.Tensor | None = None,
    local_size: int | None = None,
) -> Any:
    if _is_prepared(attention_mask):
        return attention_mask
    builder = _builder(config)
    if builder is None:
        return None
    batch_size, q_length = inputs_embeds.shape[:2]
    device = inputs_embeds.device
    if attention_mask is not None:
        attention_mask = attention_mask.to(device=device, dtype=torch.bool)
    kv_length = keys.shape[1] if keys is not None else q_length
    plain = True  # nothing but the layer kind's own pattern (and padding): the builder may skip the mask
    if or_mask_function is not None:
        mask_function, plain = or_masks(mask_function, or_mask_function), False
    if and_mask_function is not None:
        mask_function, plain = and_masks(mask_function, and_mask_function), False
    if causal and position_ids is not None and attention_mask is None:
        position_ids = position_ids.to(device).expand(batch_size, -1)
        packed = find_packed_sequence_indices(position_ids)
        if packed is not None:
            mask_function = and_masks(_at_positions(mask_function, position_ids), packed_sequence_mask_function(packed))
            plain = False
    kwargs: dict[str, Any] = {}
    if local_size is not None:
        kwargs["local_size"] = local_size
    return builder(
        batch_size=batch_size,
        q_length=q_length,
        kv_length=kv_length,
        q_offset=0,
        kv_offset=0,
        mask_function=mask_function,
        attention_mask=attention_mask,
        allow_is_causal_skip=causal and plain,
        allow_is_bidirectional_skip=not causal and plain,
        dtype=inputs_embeds.dtype,
        config=config,
        use_vmap=False,
        device=device,
        **kwargs,
    )


def create_causal_mask(
    config: Any,
    inputs_embeds: torch.Tensor,
    attention_mask: torch.Tensor | None,
    position_ids: torch.Tensor | None = None,
    or_mask_function: MaskFunction | None = None,
    and_mask_function: MaskFunction | None = None,
) -> Any:
    """The causal mask of a model's full-attention layers, from the builder ``config`` selects."""
    return _build(
        config,
        inputs_embeds,
        attention_mask,
        causal_mask_function,
        causal=True,
        position_ids=position_ids,
        or_mask_function=or_mask_function,
        and_mask_function=and_mask_function,
    )


def create_sliding_window_causal_mask(
    config: Any,
    inputs_embeds: torch.Tensor,
    attention_mask: torch.Tensor | None,
    position_ids: torch.Tensor | None = None,
    or_mask_function: MaskFunction | None = None,
    and_mask_function: MaskFunction | None = None,
) -> Any:
    """The mask of sliding-window layers: causal within ``config.sliding_window`` keys."""
    window = getattr(config, "sliding_window", None)
    if window is None:
        raise ValueError("create_sliding_window_causal_mask needs config.sliding_window")
    return _build(
        config,
        inputs_embeds,
        attention_mask,
        sliding_window_causal_mask_function(window),
        causal=True,
        position_ids=position_ids,
        or_mask_function=or_mask_function,
        and_mask_function=and_mask_function,
        local_size=window,
    )


def create_chunked_causal_mask(
    config: Any,
    inputs_embeds: torch.Tensor,
    attention_mask: torch.Tensor | None,
    position_ids: torch.Tensor | None = None,
    or_mask_function: MaskFunction | None = None,
    and_mask_function: MaskFunction | None = None,
) -> Any:
    """The mask of chunked-attention layers: causal within chunks of ``config.attention_chunk_size`` tokens,
    counted from each row's first real token."""
    chunk = getattr(config, "attention_chunk_size", None)
    if chunk is None:
        raise ValueError("create_chunked_causal_mask needs config.attention_chunk_size")
    batch_size, device = inputs_embeds.shape[0], inputs_embeds.device
    if attention_mask is not None and not _is_prepared(attention_mask):
        real = attention_mask.to(device=device, dtype=torch.bool)
        left_padding = (real.long().cumsum(-1) == 0).sum(-1)  # the padding before each row's first real token
    else:
        left_padding = torch.zeros(batch_size, dtype=torch.long, device=device)
    return _build(
        config,
        inputs_embeds,
        attention_mask,
        chunked_causal_mask_function(chunk, left_padding),
        causal=True,
        position_ids=position_ids,
        or_mask_function=or_mask_function,
        and_mask_function=and_mask_function,
        local_size=chunk,
    )


def create_bidirectional_mask(
    config: Any,
    inputs_embeds: torch.Tensor,
    attention_mask: torch.Tensor | None,
    encoder_hidden_states: torch.Tensor | None = None,
    or_mask_function: MaskFunction | None = None,
    and_mask_function: MaskFunction | None = None,
) -> Any:
    """The mask of encoder and cross-attention layers: every key (of ``encoder_hidden_states`` when given),
    less the padding."""
    return _build(
        config,
        inputs_embeds,
        attention_mask,
        bidirectional_mask_function,
        causal=False,
        or_mask_function=or_mask_function,
        and_mask_function=and_mask_function,
        keys=encoder_hidden_states,
    )


def create_masks_for_generate(
    config: Any,
    inputs_embeds: torch.Tensor,
    attention_mask: torch.Tensor | None,
    position_ids: torch.Tensor | None = None,
    or_mask_function: MaskFunction | None = None,
    and_mask_function: MaskFunction | None = None,
) -> Any:
    """The masks of every kind of layer the model has: per layer type when ``config.layer_types`` lists them,
    else the one kind its config implies (sliding window, chunked, or causal)."""
    config = config.get_text_config()
    args = (config, inputs_embeds, attention_mask, position_ids, or_mask_function, and_mask_function)
    entry_points = {
        "full_attention": create_causal_mask,
        "sliding_attention": create_sliding_window_causal_mask,
        "chunked_attention": create_chunked_causal_mask,
    }
    layer_types = getattr(config, "layer_types", None)
    if layer_types is not None:
        return {layer_type: entry_points[layer_type](*args) for layer_type in dict.fromkeys(layer_types)}
    if getattr(config, "sliding_window", None) is not None:
        return create_sliding_window_causal_mask(*args)
    if getattr(config, "attention_chunk_size", None) is not None:
        return create_chunked_causal_mask(*args)
    return create_causal_mask(*args)
