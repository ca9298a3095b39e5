"""Mask-builder calls as the properties make them: the expected mask of a call, the calls models make
(prefill and decode), and what sdpa computes for a skipped (None) mask.  Shared by the mask and attention
properties."""

from __future__ import annotations

import dataclasses

import torch
from hypothesis import strategies as st

from layer_conformance.strategies import MASK_KINDS, Geometry, MaskSpec, geometries, mask_specs, truth_table

__all__ = [
    "CAUSAL_FAMILY",
    "PHASES",
    "PINNED",
    "STATIC_ONE_TOKEN_BIDIRECTIONAL",
    "STATIC_PREFILL_BIDIRECTIONAL",
    "STATIC_PREFILL_ONE_TOKEN",
    "available",
    "builder_spec",
    "draw_case",
    "expected_mask",
    "honours_left_padding",
    "left_padding",
    "mask_functions",
    "sdpa_is_causal_mask",
    "specs",
]


def mask_functions(impl):
    """Where a property that judges a mask builder takes its mask functions from: the implementation's own,
    or the reference's for an implementation without them (a kernel author's module that registers a kernel
    and its mask builder only)."""
    if impl.has("causal_mask_function"):
        return impl
    from layer_conformance.impls import load_implementation

    return load_implementation("reference")


def available(impl, kinds=tuple(MASK_KINDS)) -> list[str]:
    """The mask kinds whose function the implementation has (transformers 4.x lacks the bidirectional one)."""
    return [k for k in kinds if impl.has(MASK_KINDS[k])]


def honours_left_padding(impl) -> bool:
    """Whether the implementation's chunked mask functions take a left padding (its ``DROPPED_ARGUMENTS`` hook
    says which arguments it drops: transformers 4.53 to 4.55 has no left padding).  Properties judging
    something else than those functions then build chunked masks without left padding, so that they judge
    what they are about; the chunked functions' own properties pass it regardless."""
    dropped = impl.hook("DROPPED_ARGUMENTS", {}) or {}
    return not any("left_padding" in dropped.get(MASK_KINDS[k], ()) for k in ("chunked_overlay", "chunked_causal"))


def specs(impl, *, batch: int, kv_end: int, kinds=tuple(MASK_KINDS)):
    """Mask function specs of the kinds the implementation has, for properties that combine or build with
    them (not those of a single function): chunked kinds with a left padding only where it is honoured."""
    return mask_specs(batch=batch, kv_end=kv_end, kinds=available(impl, kinds), left_padding=honours_left_padding(impl))


CAUSAL_FAMILY = ("causal", "sliding_window_causal", "chunked_causal")


def expected_mask(spec: MaskSpec, geo: Geometry) -> torch.Tensor:
    """[B, 1, Q, KV]: the mask function and the 2-D padding mask at absolute positions."""

    def truth(b, h, q, kv):
        return spec.truth(b, h, q, kv) and geo.padding(b, kv)

    return truth_table(truth, geo.batch, 1, geo.q_length, geo.kv_length, geo.q_offset, geo.kv_offset)


def sdpa_is_causal_mask(geo: Geometry) -> torch.Tensor:
    """What sdpa computes with ``attn_mask=None``: upper-left causal for several queries, all keys for one."""
    full = torch.ones(geo.q_length, geo.kv_length, dtype=torch.bool)
    return (full if geo.q_length == 1 else full.tril()).expand(geo.batch, 1, geo.q_length, geo.kv_length)


def left_padding(geo: Geometry) -> tuple[int, ...]:
    """Leading masked tokens per row of the 2-D mask, as models compute them for chunked attention."""
    if geo.attention_mask is None:
        return (0,) * geo.batch
    return tuple(next((i for i, x in enumerate(row) if x), len(row)) for row in geo.attention_mask)


def builder_spec(data, impl, geo: Geometry, kinds, *, realistic: bool = True) -> tuple[Geometry, MaskSpec, dict]:
    """A mask spec for a builder call, the geometry adjusted to it, and the extra kwargs a model passes
    with it (``local_size``).  Realistic calls keep the window's past tokens in the key window and take
    the chunks' left padding from the 2-D mask."""
    spec = data.draw(specs(impl, batch=geo.batch, kv_end=geo.kv_end, kinds=kinds), label="spec")
    extra = {}
    if spec.kind == "sliding_window_causal":
        extra["local_size"] = spec.window
    elif spec.kind == "chunked_causal":
        extra["local_size"] = spec.chunk
    if realistic and spec.kind.startswith(("sliding", "chunked")):
        geo = geo.keeping_window(spec.window or spec.chunk)
    if realistic and spec.kind.startswith("chunked") and honours_left_padding(impl):
        spec = dataclasses.replace(spec, left_padding=left_padding(geo))
    if spec.kind == "padding" and len(spec.padding[0]) < geo.kv_end:  # the window grew: pad with True
        spec = dataclasses.replace(spec, padding=tuple(r + (True,) * (geo.kv_end - len(r)) for r in spec.padding))
    return geo, spec, extra


PHASES = ["prefill", "decode"]

#: Pinned by an explicit example: one token at position 0 (a one-token prompt) into a cache of 4 slots,
#: the 2-D mask covering the one token seen.  A None mask here would let sdpa attend the empty slots.
STATIC_PREFILL_ONE_TOKEN = (Geometry(1, 1, 4, 0, 0, ((True,),)), MaskSpec("causal"), {})


#: Pinned by explicit examples: a prompt with a bidirectional mask function into a cache with more slots
#: than tokens, the 2-D mask covering the tokens seen.  The slots beyond them hold no token: no builder may
#: let a query attend them (a shortcut that drops an all-ones 2-D mask would).
STATIC_PREFILL_BIDIRECTIONAL = (Geometry(1, 2, 3, 0, 0, ((True, True),)), MaskSpec("bidirectional"), {})
STATIC_ONE_TOKEN_BIDIRECTIONAL = (Geometry(1, 1, 3, 0, 0, ((True,),)), MaskSpec("bidirectional"), {})

#: The pinned cases of each phase, by index: the properties run ``@example(data=0)`` and ``@example(data=1)``.
PINNED = {
    "decode": (STATIC_PREFILL_ONE_TOKEN, STATIC_ONE_TOKEN_BIDIRECTIONAL),
    "prefill": (STATIC_PREFILL_BIDIRECTIONAL,),
}


def draw_case(data, impl, phase: str, kinds) -> tuple[Geometry, MaskSpec, dict] | None:
    """A builder call for ``phase`` (decode: one query; prefill: several), or, when ``data`` is an index
    instead of Hypothesis' data, the phase's pinned case of that index (:data:`PINNED`): None when there
    is none, when its mask function is not among ``kinds`` or when the implementation lacks it."""
    if isinstance(data, int):
        pinned = PINNED[phase][data] if data < len(PINNED[phase]) else None
        return pinned if pinned is not None and pinned[1].kind in available(impl, kinds) else None
    q_lengths = st.just(1) if phase == "decode" else st.integers(2, 6)
    geo = data.draw(geometries(q_lengths=q_lengths), label="geometry")
    return builder_spec(data, impl, geo, kinds)
