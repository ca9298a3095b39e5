"""Mask functions and the sdpa / eager mask builders.

A *mask function* is a callable ``(batch_idx, head_idx, q_idx, kv_idx) -> bool``
that is True where the query attends the key.  Its arguments are integer
tensors that broadcast against each other (0-d for one point), and it is built
from elementwise torch operations only, so that it also works under
``torch.vmap``.

``sdpa_mask`` evaluates a mask function (and the 2-D padding mask) over a grid of
absolute query positions ``q_offset + i`` and key positions ``kv_offset + j``;
``eager_mask`` maps that grid to 0 (attend) and ``finfo(dtype).min`` (masked).
Both evaluate the mask function on broadcast index tensors, or, with
``use_vmap=True``, point by point under ``torch.vmap`` (for mask functions that
only take single indices); the mask is the same either way.  Both may return
None instead of a mask the caller can leave to sdpa: ``allow_is_causal_skip``
(sdpa_mask) when sdpa's ``is_causal`` computes it, ``allow_is_bidirectional_skip``
when it attends every key from every query.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .registry import Registry

__all__ = [
    "AttentionMaskInterface",
    "and_masks",
    "bidirectional_mask_function",
    "causal_mask_function",
    "chunked_causal_mask_function",
    "chunked_overlay",
    "eager_mask",
    "or_masks",
    "padding_mask_function",
    "sdpa_mask",
    "sliding_window_causal_mask_function",
    "sliding_window_overlay",
]

MaskFunction = Callable[..., torch.Tensor]


def _check_callables(fns: tuple[object, ...], name: str) -> None:
    for fn in fns:
        if not callable(fn):
            raise TypeError(f"{name}: every argument must be a mask function, got {type(fn).__name__}")


def and_masks(*mask_functions: MaskFunction) -> MaskFunction:
    """The intersection of mask functions (all True when there are none)."""
    _check_callables(mask_functions, "and_masks")

    def and_mask(batch_idx, head_idx, q_idx, kv_idx):
        result = torch.ones((), dtype=torch.bool, device=q_idx.device)
        for fn in mask_functions:
            result = result & torch.as_tensor(fn(batch_idx, head_idx, q_idx, kv_idx), device=result.device)
        return result

    return and_mask


def or_masks(*mask_functions: MaskFunction) -> MaskFunction:
    """The union of mask functions (all False when there are none)."""
    _check_callables(mask_functions, "or_masks")

    def or_mask(batch_idx, head_idx, q_idx, kv_idx):
        result = torch.zeros((), dtype=torch.bool, device=q_idx.device)
        for fn in mask_functions:
            result = result | torch.as_tensor(fn(batch_idx, head_idx, q_idx, kv_idx), device=result.device)
        return result

    return or_mask


def causal_mask_function(batch_idx, head_idx, q_idx, kv_idx):
    """A query attends the keys at or before its position."""
    return kv_idx <= q_idx


def bidirectional_mask_function(batch_idx, head_idx, q_idx, kv_idx):
    """Every query attends every key (index-based, so it broadcasts like the others)."""
    return q_idx >= 0


def sliding_window_overlay(sliding_window: int) -> MaskFunction:
    """Keys less than ``sliding_window`` positions behind the query: ``kv > q - sliding_window``."""

    def inner(batch_idx, head_idx, q_idx, kv_idx):
        return kv_idx > q_idx - sliding_window

    return inner


def chunked_overlay(chunk_size: int, left_padding: torch.Tensor) -> MaskFunction:
    """Query and key in the same chunk of ``chunk_size`` positions, counted from ``left_padding[b]``."""

    def inner(batch_idx, head_idx, q_idx, kv_idx):
        start = left_padding[batch_idx]
        return torch.div(kv_idx - start, chunk_size, rounding_mode="floor") == torch.div(
            q_idx - start, chunk_size, rounding_mode="floor"
        )

    return inner


def sliding_window_causal_mask_function(sliding_window: int) -> MaskFunction:
    return and_masks(sliding_window_overlay(sliding_window), causal_mask_function)


def chunked_causal_mask_function(chunk_size: int, left_padding: torch.Tensor) -> MaskFunction:
    return and_masks(chunked_overlay(chunk_size, left_padding), causal_mask_function)


def padding_mask_function(padding_mask: torch.Tensor) -> MaskFunction:
    """``padding_mask[b, kv]``: the 2-D padding mask indexed by batch and key position."""

    def inner(batch_idx, head_idx, q_idx, kv_idx):
        return padding_mask[batch_idx, kv_idx]

    return inner


def _padded(attention_mask: torch.Tensor, length: int) -> torch.Tensor:
    """The 2-D mask as booleans, cut or extended with False to ``length`` key positions."""
    mask = attention_mask.bool()
    if mask.shape[-1] >= length:
        return mask[:, :length]
    return torch.nn.functional.pad(mask, (0, length - mask.shape[-1]), value=False)


def _materialize(
    batch_size: int,
    q_length: int,
    kv_length: int,
    q_offset: int,
    kv_offset: int,
    mask_function: MaskFunction,
    attention_mask: torch.Tensor | None,
    device: torch.device | str,
    use_vmap: bool = False,
) -> torch.Tensor:
    if attention_mask is not None:
        mask_function = and_masks(mask_function, padding_mask_function(_padded(attention_mask, kv_offset + kv_length)))
    shape = (batch_size, 1, q_length, kv_length)
    b = torch.arange(batch_size, device=device)[:, None, None, None]
    h = torch.arange(1, device=device)[None, :, None, None]
    q = (torch.arange(q_length, device=device) + q_offset)[None, None, :, None]
    kv = (torch.arange(kv_length, device=device) + kv_offset)[None, None, None, :]
    if use_vmap:  # one call per point: every index a 0-d tensor, vectorized by vmap over the flattened grid
        points = [index.expand(shape).reshape(-1) for index in (b, h, q, kv)]
        grid = torch.vmap(mask_function)(*points).reshape(shape)
    else:
        grid = torch.as_tensor(mask_function(b, h, q, kv), device=device)
    return grid.to(torch.bool).expand(shape).clone()


def _is_causal_equivalent(mask: torch.Tensor) -> bool:
    """Whether sdpa with ``attn_mask=None`` computes this mask.

    With no mask, sdpa attention is causal aligned to the upper left when there
    is more than one query (``is_causal=True``), and attends everything for a
    single query.
    """
    q_length, kv_length = mask.shape[-2:]
    if q_length == 1:
        expected = torch.ones(1, kv_length, dtype=torch.bool, device=mask.device)
    else:
        expected = torch.ones(q_length, kv_length, dtype=torch.bool, device=mask.device).tril()
    return bool((mask == expected).all())


def sdpa_mask(
    batch_size: int,
    q_length: int,
    kv_length: int,
    q_offset: int = 0,
    kv_offset: int = 0,
    mask_function: MaskFunction = causal_mask_function,
    attention_mask: torch.Tensor | None = None,
    local_size: int | None = None,
    allow_is_causal_skip: bool = True,
    allow_is_bidirectional_skip: bool = False,
    use_vmap: bool = False,
    device: torch.device | str = "cpu",
    **kwargs,
) -> torch.Tensor | None:
    """Boolean mask ``[batch_size, 1, q_length, kv_length]``, True where attended.

    Entry ``[b, 0, i, j]`` is ``mask_function(b, 0, q_offset + i, kv_offset + j)``
    and, when ``attention_mask`` (2-D, per absolute key position, False beyond
    its length) is given, ``attention_mask[b, kv_offset + j]``.  With
    ``allow_is_causal_skip`` the caller says the pattern is causal (within
    ``local_size`` when given); None is then returned exactly when sdpa's own
    ``is_causal`` handling computes the same mask.  With
    ``allow_is_bidirectional_skip`` the caller says the pattern is full
    attention; None is then returned exactly when every query attends every key
    (sdpa without a mask and without ``is_causal`` computes that).  ``use_vmap``
    evaluates the mask function point by point under ``torch.vmap``; the mask is
    the same.  No skip while compiling: a traced graph cannot depend on the values.
    """
    if attention_mask is not None:
        device = attention_mask.device
    mask = _materialize(
        batch_size, q_length, kv_length, q_offset, kv_offset, mask_function, attention_mask, device, use_vmap
    )
    if not torch.compiler.is_compiling():
        if allow_is_causal_skip and _is_causal_equivalent(mask):
            return None
        if allow_is_bidirectional_skip and bool(mask.all()):
            return None
    return mask


def eager_mask(
    batch_size: int,
    q_length: int,
    kv_length: int,
    q_offset: int = 0,
    kv_offset: int = 0,
    mask_function: MaskFunction = causal_mask_function,
    attention_mask: torch.Tensor | None = None,
    dtype: torch.dtype = torch.float32,
    allow_is_bidirectional_skip: bool = False,
    use_vmap: bool = False,
    device: torch.device | str = "cpu",
    **kwargs,
) -> torch.Tensor | None:
    """Float mask ``[batch_size, 1, q_length, kv_length]``: 0 where attended, ``finfo(dtype).min`` elsewhere.

    Never skips a causal mask (``allow_is_causal_skip`` is ignored); ``allow_is_bidirectional_skip`` and
    ``use_vmap`` mean what they mean for :func:`sdpa_mask` (None when every query attends every key).
    """
    kwargs.pop("allow_is_causal_skip", None)
    mask = sdpa_mask(
        batch_size,
        q_length,
        kv_length,
        q_offset,
        kv_offset,
        mask_function=mask_function,
        attention_mask=attention_mask,
        allow_is_causal_skip=False,
        allow_is_bidirectional_skip=allow_is_bidirectional_skip,
        use_vmap=use_vmap,
        device=device,
    )
    if mask is None:
        return None
    zero = torch.zeros((), dtype=dtype, device=mask.device)
    return torch.where(mask, zero, torch.finfo(dtype).min)


class AttentionMaskInterface(Registry):
    """Registry of mask builders by attention implementation name."""

    _global_mapping = {"sdpa": sdpa_mask, "eager": eager_mask}
