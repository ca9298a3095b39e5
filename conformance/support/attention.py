"""Calling an attention backend the way the properties (and the benchmarks) do, and its definition.

* :func:`definition` -- the documented result in float64:
  ``softmax(q k^T * scaling + mask) v``, key/value head ``h // groups`` serving
  query head ``h``, output ``[batch, q_len, heads, head_dim]``; with a soft cap,
  ``softcap * tanh(scores / softcap)`` replaces the scores before the mask is
  added; with sinks, one extra logit per head joins every row's softmax and is
  dropped afterwards;
* :func:`backend_of` -- a property's ``backend`` parameter resolved for its
  implementation (:mod:`layer_conformance.backends`);
* :func:`as_mask` -- a truth table (and additive biases) in the mask form the
  backend reads: additive floats, booleans, a flex ``BlockMask``;
* :func:`read_mask` -- the other way: what a mask in a backend's form attends,
  read the way that backend reads it (``None`` included);
* :func:`call` -- one call of a backend on an :class:`AttentionCase`, with the
  case's mask in the backend's form (compiled backends run eagerly unless
  ``--attention-compile compiled``);
* :func:`attended` -- the output rows whose query attends at least one key (a
  fully masked row has no defined output: every comparison leaves it out).

``bench/measure_tolerances.py`` measures the tolerance table with these very
functions, so the table describes what the properties compare.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import pytest
import torch

from layer_conformance import runtime
from layer_conformance.backends import BackendParam, Resolved, resolve
from layer_conformance.channel import exercised
from layer_conformance.contract import Backend
from layer_conformance.strategies.attention import AttentionCase, attention_module

__all__ = [
    "NotExpressible",
    "as_mask",
    "attended",
    "backend_module",
    "backend_of",
    "builder_of",
    "builder_kwargs",
    "call",
    "definition",
    "expressible",
    "mask_for",
    "read_mask",
    "running",
    "sdpa_default_mask",
]


def definition(
    case: AttentionCase, q, k, v, bias, *, softcap: float | None = None, sinks: torch.Tensor | None = None
) -> torch.Tensor:
    """The documented result in float64: softmax(q k^T * scaling [soft-capped] + bias [, sink]) v, key/value
    head h // groups.  Differentiable in q, k, v (they are cast, not detached)."""
    q, k, v = (t.double() for t in (q, k, v))
    k = k.repeat_interleave(case.groups, dim=1)
    v = v.repeat_interleave(case.groups, dim=1)
    scores = q @ k.transpose(-2, -1) * case.scaling
    if softcap is not None:
        scores = softcap * torch.tanh(scores / softcap)
    if bias is not None:
        scores = scores + bias.double()
    if sinks is None:
        return (scores.softmax(-1) @ v).transpose(1, 2)
    sink = sinks.double().view(1, -1, 1, 1).expand(*scores.shape[:-1], 1)
    probs = torch.cat([scores, sink], dim=-1).softmax(-1)[..., :-1]
    return (probs @ v).transpose(1, 2)


def backend_of(impl: Any, backend: BackendParam | str) -> Resolved:
    """The backend a property runs, resolved for its implementation (selection already skipped the
    properties of unavailable backends)."""
    key = backend.key if isinstance(backend, BackendParam) else backend
    resolved = resolve(impl, key, runtime.device().type)
    if not isinstance(resolved, Resolved):
        pytest.skip(resolved.reason)
    if resolved.caps.name is None:  # a registry entry chosen at run time: report it for the surface check
        exercised(impl, f"AttentionInterface[{key!r}]")
    return resolved


def builder_of(impl: Any, backend: BackendParam | str) -> Resolved:
    """:func:`backend_of` for a property that also uses the backend's mask builder (reported for the
    surface check when it comes from the implementation's AttentionMaskInterface)."""
    resolved = backend_of(impl, backend)
    if resolved.caps.builder_name is None:
        exercised(impl, f"AttentionMaskInterface[{resolved.caps.builder!r}]")
    return resolved


def backend_module(
    caps: Backend, groups: int = 1, *, is_causal: bool | None = None, training: bool = False
) -> torch.nn.Module:
    """The ``module`` argument for a backend: ``num_key_value_groups`` (and ``is_causal``, ``training``),
    plus ``config._attn_implementation`` and a linear layer for backends that read them (flash)."""
    module = attention_module(groups, is_causal=is_causal, training=training)
    if caps.needs_config:
        module.config = type("Config", (), {"_attn_implementation": caps.key})()
        module.proj = torch.nn.Linear(1, 1, device=runtime.device())
    return module


@contextlib.contextmanager
def running(caps: Backend) -> Iterator[None]:
    """Run a backend as ``--attention-compile`` says: a backend its implementation compiles runs eagerly
    (torch.compiler's ``force_eager`` stance: the same code on torch's reference kernels) unless
    ``compiled`` is chosen."""
    stance = getattr(torch.compiler, "set_stance", None)
    if caps.compiles and runtime.attention_compile() == "eager" and stance is not None:
        with stance("force_eager"):
            yield
    else:
        yield


def _blockmask(keep: torch.Tensor, device) -> Any:
    from torch.nn.attention.flex_attention import create_block_mask

    batch, _, q_len, kv_len = keep.shape
    table = keep.to(device)

    def mask_mod(b, h, q, kv):
        return table[b, 0, q, kv]

    return create_block_mask(mask_mod, batch, None, q_len, kv_len, device=device)


class NotExpressible(ValueError):
    """The backend's mask form cannot express this mask (a padding2d backend and an arbitrary table)."""


def as_mask(caps: Backend, keep: torch.Tensor | None, bias: torch.Tensor | None, dtype, device) -> Any:
    """A mask in the form ``caps`` reads: ``keep`` (boolean ``[b, 1, q, kv]``, True attends; None: no mask)
    with additive ``bias`` values where kept (None: zeros)."""
    if keep is None and bias is None:
        return None
    if keep is None:
        keep = torch.ones(bias.shape, dtype=torch.bool, device=device)
    has_bias = bias is not None and bool((bias[keep] != 0).any())
    if has_bias or caps.mask == "additive":
        if not caps.additive and has_bias:
            raise NotExpressible(f"{caps.key} takes no additive masks")
        values = torch.zeros(keep.shape, dtype=dtype, device=device) if bias is None else bias.to(dtype)
        return torch.where(keep.to(device), values, torch.finfo(dtype).min)
    if caps.mask == "boolean":
        return keep.to(device)
    if caps.mask == "blockmask":
        return _blockmask(keep, device)
    raise NotExpressible(f"{caps.key} reads masks as {caps.mask}: an arbitrary truth table cannot be passed")


def mask_for(caps: Backend, case: AttentionCase, dtype, device) -> Any:
    """The case's mask in the form the backend takes; None for no mask, and for the causal style on a
    backend whose None means causal (sdpa: ``module.is_causal`` decides)."""
    if case.mask_style == "none" or (case.mask_style == "causal" and caps.none_mask == "causal"):
        return None
    keep = case.keep(device)
    bias = case.bias(dtype, device) if case.mask_style == "additive" else None
    if bias is not None:
        bias = torch.where(keep, bias, torch.zeros((), dtype=bias.dtype, device=device))
    return as_mask(caps, keep, bias, dtype, device)


def expressible(caps: Backend, case: AttentionCase) -> AttentionCase:
    """The case with its mask style replaced by the nearest one the backend can take: additive biases
    become a plain boolean mask for a backend without additive masks; a padding2d backend takes no
    mask or its causal default only."""
    import dataclasses

    style = case.mask_style
    if caps.mask == "padding2d" and style in ("additive", "boolean"):
        style = "causal"
    elif style == "additive" and not caps.additive:
        style = "boolean"
    return case if style == case.mask_style else dataclasses.replace(case, mask_style=style)


def call(
    impl: Any,
    backend: Resolved | str,
    case: AttentionCase,
    q,
    k,
    v,
    *,
    dtype,
    device,
    module=None,
    mask: Any = "auto",
    **kwargs: Any,
):
    """Call a backend of ``impl`` on ``case`` (``dropout=0.0`` unless given in ``kwargs``).

    ``backend`` is a resolved backend or a key.  ``mask="auto"`` passes :func:`mask_for`'s mask; any
    other value is passed as it is.  The module carries the case's groups and, for a backend whose None
    mask means causal, ``is_causal`` True for the causal style only."""
    resolved = backend if isinstance(backend, Resolved) else backend_of(impl, backend)
    caps = resolved.caps
    if module is None:
        is_causal = case.mask_style == "causal" if caps.none_mask == "causal" else None
        module = backend_module(caps, case.groups, is_causal=is_causal)
    if isinstance(mask, str) and mask == "auto":
        mask = mask_for(caps, case, dtype, device)
    kwargs.setdefault("dropout", 0.0)
    with running(caps):
        return resolved.function(module, q, k, v, mask, scaling=case.scaling, **kwargs)


def attended(out: torch.Tensor, case: AttentionCase, device) -> torch.Tensor:
    """Rows of an output ``[batch, q_len, heads, head_dim]`` whose query attends at least one key,
    flattened: ``[n, head_dim]``."""
    rows = case.attended_rows(device)  # [b, 1, q]
    keep = rows.squeeze(1)[:, :, None].expand(case.batch, case.q_len, case.heads)  # [b, q, h]
    return out[keep]


def sdpa_default_mask(batch: int, q_len: int, kv_len: int) -> torch.Tensor:
    """What sdpa computes with ``attn_mask=None`` and ``is_causal``: causal aligned to the upper left for
    several queries, every key for a single query."""
    full = torch.ones(q_len, kv_len, dtype=torch.bool)
    return (full if q_len == 1 else full.tril()).expand(batch, 1, q_len, kv_len)


def _blockmask_dense(mask: Any, batch: int, q_len: int, kv_len: int) -> torch.Tensor:
    """A flex ``BlockMask`` read element by element as flex reads it: a full block attends everywhere, a
    partial block where its ``mask_mod`` says so, any other block nowhere."""
    from torch.nn.attention.flex_attention import create_mask

    q_block, kv_block = mask.BLOCK_SIZE

    def blocks(num, indices) -> torch.Tensor:
        n_kv = max(math.ceil(kv_len / kv_block), indices.shape[-1] if indices is not None else 0)
        out = torch.zeros(*num.shape, n_kv + 1, dtype=torch.bool)
        if indices is not None and indices.numel():
            valid = torch.arange(indices.shape[-1]) < num.cpu()[..., None]
            target = torch.where(valid, indices.cpu().long(), n_kv)  # invalid entries land in a spare column
            out.scatter_(-1, target, True)
        out = out[..., :n_kv]
        out = out.repeat_interleave(q_block, dim=-2)[..., :q_len, :]
        return out.repeat_interleave(kv_block, dim=-1)[..., :kv_len]

    partial = blocks(mask.kv_num_blocks, mask.kv_indices)
    full = (
        blocks(mask.full_kv_num_blocks, mask.full_kv_indices)
        if mask.full_kv_num_blocks is not None
        else torch.zeros_like(partial)
    )
    mods = create_mask(mask.mask_mod, batch, 1, q_len, kv_len, device=mask.kv_indices.device).cpu()
    dense = full | (partial & mods)
    return dense.expand(batch, 1, q_len, kv_len) if dense.shape[0] == 1 else dense[:, :1]


def read_mask(
    caps: Backend,
    mask: Any,
    batch: int,
    q_len: int,
    kv_len: int,
    *,
    is_causal: bool = True,
    sliding_window: int | None = None,
) -> torch.Tensor:
    """Which keys each query attends under ``mask``, read the way the backend reads it: bool
    ``[batch, 1, q_len, kv_len]`` on the CPU.  Raises AssertionError for a value that is not a mask of
    the backend's forms (an additive mask with values other than 0 and finfo.min, a wrong shape)."""
    if caps.mask == "padding2d":
        causal = torch.ones(q_len, kv_len, dtype=torch.bool).tril(kv_len - q_len)  # aligned to the lower right
        if sliding_window is not None:
            causal &= ~torch.ones(q_len, kv_len, dtype=torch.bool).tril(kv_len - q_len - sliding_window)
        table = causal.expand(batch, 1, q_len, kv_len)
        if mask is not None:
            assert tuple(mask.shape) == (batch, kv_len), f"2-D mask of shape {tuple(mask.shape)}, not {(batch, kv_len)}"
            table = table & mask.bool().cpu()[:, None, None, :]
        return table
    if mask is None:
        if caps.none_mask == "causal" and is_causal:
            return sdpa_default_mask(batch, q_len, kv_len)
        return torch.ones(batch, 1, q_len, kv_len, dtype=torch.bool)
    if not isinstance(mask, torch.Tensor):
        assert caps.mask == "blockmask", f"{type(mask).__name__} is not a mask {caps.key} reads"
        return _blockmask_dense(mask, batch, q_len, kv_len)
    assert mask.dim() == 4 and mask.shape[-2:] == (q_len, kv_len) and mask.shape[0] in (1, batch), (
        f"mask of shape {tuple(mask.shape)}, not [{batch}, 1, {q_len}, {kv_len}]"
    )
    mask = mask.cpu()
    if mask.dtype == torch.bool:
        table = mask
    else:
        minimum = torch.finfo(mask.dtype).min
        odd = (mask != 0) & (mask != minimum)
        assert not bool(odd.any()), f"additive mask holds values other than 0 and finfo.min: {mask[odd][:4].tolist()}"
        table = mask == 0
    return table[:, :1].expand(batch, 1, q_len, kv_len)


def builder_kwargs(caps: Backend, *, causal_family: bool, local_size: int | None, dtype) -> dict[str, Any]:
    """The keyword arguments models pass to whatever mask builder their backend pairs with: whether a causal
    mask may be skipped (``allow_is_causal_skip``, for sdpa), the window as ``local_size`` (sdpa) and the
    dtype (eager); a builder takes what it needs and ignores the rest."""
    kwargs: dict[str, Any] = {"allow_is_causal_skip": causal_family, "dtype": dtype}
    if local_size is not None:
        kwargs["local_size"] = local_size
    return kwargs
