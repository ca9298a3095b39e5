"""Mask-builder calls as the properties make them: the expected mask of a call, the calls models make
(prefill and decode), and what sdpa computes for a skipped (None) mask.  Shared by the mask and attention
properties."""

from __future__ import annotations

import dataclasses

import torch

from layer_conformance.strategies import (
    GEOMETRY_REGIMES,
    MASK_KINDS,
    Geometry,
    MaskSpec,
    geometries,
    geometry_regimes,
    mask_specs,
    truth_table,
)
from layer_conformance.strategies.regimes import Regimes

__all__ = [
    "ANY_PINNED",
    "CALL_REGIMES",
    "CAUSAL_FAMILY",
    "PHASES",
    "PINNED",
    "STATIC_ONE_TOKEN_BIDIRECTIONAL",
    "STATIC_PREFILL_BIDIRECTIONAL",
    "STATIC_PREFILL_ONE_TOKEN",
    "adjust",
    "available",
    "call_regimes",
    "builder_spec",
    "draw_any_call",
    "draw_case",
    "expected_mask",
    "honours_left_padding",
    "label_call",
    "left_padding",
    "pinned_examples",
    "mask_functions",
    "sdpa_is_causal_mask",
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


def _fully_masked_row(call: tuple[Geometry, MaskSpec]) -> bool:
    geo, spec = call
    return not bool(expected_mask(spec, geo).any(-1).all())


def _sliding(call, test) -> bool:
    geo, spec = call
    return spec.kind.startswith("sliding") and test(spec.window, geo.kv_length)


def _chunked(call, test) -> bool:
    geo, spec = call
    return spec.kind.startswith("chunked") and test(spec.chunk, geo.kv_length)


#: The regimes of a mask-builder call, beyond its geometry's (:data:`GEOMETRY_REGIMES`): each mask
#: function, windows and chunks against the call's keys, chunks after left padding, a query row that
#: attends no key.  Labelled values are ``(geometry, spec)``.
CALL_REGIMES = Regimes(
    "mask call",
    {
        **{
            f"{kind} mask function": (lambda call, kind=kind: call[1].kind == kind)  # type: ignore[misc]
            for kind in MASK_KINDS
        },
        "a window of one key": lambda c: _sliding(c, lambda w, keys: w == 1),
        "a window narrower than the keys": lambda c: _sliding(c, lambda w, keys: 1 < w < keys),
        "a window at least the keys": lambda c: _sliding(c, lambda w, keys: w >= keys and w > 1),
        "chunks narrower than the keys": lambda c: _chunked(c, lambda size, keys: 1 < size < keys),
        "chunks after left padding": lambda c: c[1].kind.startswith("chunked") and any(c[1].left_padding),
        "a fully masked query row": _fully_masked_row,
    },
)


def call_regimes(kinds, *, left_padding: bool = True) -> list[str]:
    """The regimes of :data:`CALL_REGIMES` builder calls with mask functions of ``kinds`` can reach (chunks
    after left padding only where the implementation takes a left padding: ``left_padding``)."""
    names = [f"{kind} mask function" for kind in kinds]
    if any(k.startswith("sliding") for k in kinds):
        names += ["a window of one key", "a window narrower than the keys", "a window at least the keys"]
    if any(k.startswith("chunked") for k in kinds):
        names += ["chunks narrower than the keys"] + (["chunks after left padding"] if left_padding else [])
    return [*names, "a fully masked query row"]


def label_call(
    geo: Geometry, spec: MaskSpec, kinds, *, realistic: bool, phase: str | None, left_padding: bool = True
) -> None:
    """Label a builder call with its geometry's and its own regimes (declaring those the call's strategy
    can reach: realistic or not, the phase, the mask functions ``kinds``, whether the implementation's
    chunked functions take a left padding)."""
    GEOMETRY_REGIMES.label(geo, declared=geometry_regimes(realistic=realistic, phase=phase))
    CALL_REGIMES.label((geo, spec), declared=call_regimes(kinds, left_padding=left_padding))


def adjust(geo: Geometry, spec: MaskSpec, *, realistic: bool = True, impl=None) -> tuple[Geometry, MaskSpec, dict]:
    """The call a model makes with ``spec`` on ``geo``: the extra kwargs it passes (``local_size``);
    realistic calls keep the window's past tokens in the key window and take the chunks' left padding
    from the 2-D mask (where ``impl`` honours one: :func:`honours_left_padding`); a padding spec grows
    with the key window."""
    extra = {}
    if spec.kind == "sliding_window_causal":
        extra["local_size"] = spec.window
    elif spec.kind == "chunked_causal":
        extra["local_size"] = spec.chunk
    if realistic and spec.kind.startswith(("sliding", "chunked")):
        geo = geo.keeping_window(spec.window or spec.chunk)
    if spec.kind.startswith("chunked") and impl is not None and not honours_left_padding(impl):
        spec = dataclasses.replace(spec, left_padding=(0,) * geo.batch)
    elif realistic and spec.kind.startswith("chunked"):
        spec = dataclasses.replace(spec, left_padding=left_padding(geo))
    if spec.kind == "padding" and len(spec.padding[0]) < geo.kv_end:  # the window grew: pad with True
        spec = dataclasses.replace(spec, padding=tuple(r + (True,) * (geo.kv_end - len(r)) for r in spec.padding))
    return geo, spec, extra


def builder_spec(
    data, impl, geo: Geometry, kinds, *, realistic: bool = True, phase: str | None = None
) -> tuple[Geometry, MaskSpec, dict]:
    """A mask spec for a builder call, the geometry adjusted to it, and the extra kwargs a model passes
    with it (:func:`adjust`); the call is labelled with its regimes (:func:`label_call`)."""
    kinds = available(impl, kinds)
    honoured = honours_left_padding(impl)
    spec = data.draw(
        mask_specs(batch=geo.batch, kv_end=geo.kv_end, kinds=kinds, left_padding=honoured, label=False), label="spec"
    )
    geo, spec, extra = adjust(geo, spec, realistic=realistic, impl=impl)
    label_call(geo, spec, kinds, realistic=realistic, phase=phase, left_padding=honoured)
    return geo, spec, extra


PHASES = ["prefill", "decode"]

T, F = True, False

#: Pinned by an explicit example: one token at position 0 (a one-token prompt) into a cache of 4 slots,
#: the 2-D mask covering the one token seen.  A None mask here would let sdpa attend the empty slots.
STATIC_PREFILL_ONE_TOKEN = (Geometry(1, 1, 4, 0, 0, ((True,),)), MaskSpec("causal"))


#: Pinned by explicit examples: a prompt with a bidirectional mask function into a cache with more slots
#: than tokens, the 2-D mask covering the tokens seen.  The slots beyond them hold no token: no builder may
#: let a query attend them (a shortcut that drops an all-ones 2-D mask would).
STATIC_PREFILL_BIDIRECTIONAL = (Geometry(1, 2, 3, 0, 0, ((True, True),)), MaskSpec("bidirectional"))
STATIC_ONE_TOKEN_BIDIRECTIONAL = (Geometry(1, 1, 3, 0, 0, ((True,),)), MaskSpec("bidirectional"))

#: The pinned calls of each phase, run by every builder property as explicit examples
#: (:func:`pinned_examples`).  Those of the causal family come first and reach, by themselves, every
#: declared regime of the phase -- no 2-D mask, one without padding, left, right and inner padding;
#: offsets 0 and past 0, a key window starting past 0; as many keys as queries, more, and slots past the
#: last query (static cache); windows of one key, narrower than the keys and wider; chunks narrower than
#: the keys and after left padding; a query row that attends nothing -- so that the properties limited to
#: the causal family reach them too; the other mask functions follow.  They are calls models make
#: (``geometries(realistic=True)``), adjusted like the drawn ones (:func:`adjust`).
PINNED: dict[str, tuple[tuple[Geometry, MaskSpec], ...]] = {
    "prefill": (
        # a prompt, nothing padded, as many keys as queries
        (Geometry(2, 3, 3), MaskSpec("causal")),
        # the continuation of a chunked prefill: queries after cached keys, no 2-D mask
        (Geometry(1, 3, 5, 2, 0), MaskSpec("causal")),
        # a left-padded batch, the causal skip allowed (the padded queries attend nothing)
        (Geometry(2, 4, 4, 0, 0, ((F, F, T, T), (T, T, T, T))), MaskSpec("causal")),
        # a right-padded batch, a window narrower than the keys
        (Geometry(2, 4, 4, 0, 0, ((T, T, T, F), (T, T, T, T))), MaskSpec("sliding_window_causal", window=2)),
        # chunks counted after left padding, narrower than the keys
        (Geometry(2, 5, 5, 0, 0, ((F, T, T, T, T), (T, T, T, T, T))), MaskSpec("chunked_causal", chunk=2)),
        # a hole in the 2-D mask, a window of one key, a key window starting past 0
        (Geometry(1, 2, 4, 3, 1, ((T, F, T, T, T),)), MaskSpec("sliding_window_causal", window=1)),
        # a prompt into a cache with slots past it, a chunk wider than the keys
        (Geometry(1, 3, 6, 1, 0, ((T, T, T, T),)), MaskSpec("chunked_causal", chunk=8)),
        # a window at least the keys
        (Geometry(1, 3, 3), MaskSpec("sliding_window_causal", window=6)),
        # the plain prompts of the windowed masks: nothing padded, a window and chunks narrower than the keys
        (Geometry(1, 4, 4), MaskSpec("sliding_window_causal", window=2)),
        (Geometry(1, 4, 4), MaskSpec("chunked_causal", chunk=2)),
        STATIC_PREFILL_BIDIRECTIONAL,
        (Geometry(1, 3, 4, 1, 0, ((T, F, T, T),)), MaskSpec("sliding_window_overlay", window=2)),
        (Geometry(2, 2, 3, 1, 0, ((F, T, T), (T, T, T))), MaskSpec("chunked_overlay", chunk=2)),
        # a padding mask function with a fully padded row
        (Geometry(2, 2, 2), MaskSpec("padding", padding=((T, F), (F, F)))),
    ),
    "decode": (
        STATIC_PREFILL_ONE_TOKEN,
        # one token, no cache: as many keys as queries
        (Geometry(1, 1, 1), MaskSpec("causal")),
        # decoding after a prompt, no 2-D mask
        (Geometry(2, 1, 4, 3, 0), MaskSpec("causal")),
        # decoding a left-padded batch
        (Geometry(2, 1, 4, 3, 0, ((F, F, T, T), (T, T, T, T))), MaskSpec("causal")),
        # a sliding-window cache (key window past 0), a window narrower than the keys
        (Geometry(1, 1, 3, 4, 2, ((T, T, T, T, T),)), MaskSpec("sliding_window_causal", window=2)),
        # chunks counted after left padding, narrower than the keys
        (Geometry(2, 1, 6, 5, 0, ((F, T, T, T, T, T), (T, T, T, T, T, T))), MaskSpec("chunked_causal", chunk=3)),
        # the token itself padded (right padding), a window of one key: the query attends nothing
        (Geometry(1, 1, 4, 3, 0, ((T, T, T, F),)), MaskSpec("sliding_window_causal", window=1)),
        # a hole in the 2-D mask, a chunk wider than the keys
        (Geometry(1, 1, 5, 4, 0, ((T, F, T, T, T),)), MaskSpec("chunked_causal", chunk=8)),
        # a window at least the keys
        (Geometry(1, 1, 3, 2, 0), MaskSpec("sliding_window_causal", window=4)),
        # plain decoding steps of the windowed masks: nothing padded, a window and chunks narrower than the keys
        (Geometry(1, 1, 4, 3, 0), MaskSpec("sliding_window_causal", window=2)),
        (Geometry(1, 1, 4, 3, 0), MaskSpec("chunked_causal", chunk=2)),
        STATIC_ONE_TOKEN_BIDIRECTIONAL,
        (Geometry(1, 1, 4, 3, 0, ((F, T, T, T),)), MaskSpec("sliding_window_overlay", window=2)),
        (Geometry(1, 1, 5, 4, 0, ((F, F, T, T, T),)), MaskSpec("chunked_overlay", chunk=2)),
        # a padding mask function with a fully padded row
        (Geometry(2, 1, 3, 2, 0), MaskSpec("padding", padding=((T, T, T), (F, F, F)))),
    ),
}


#: Pinned calls for the properties that judge any builder call (offsets and 2-D mask lengths free,
#: ``geometries(realistic=False)``), run as explicit examples (``pinned_examples(any_call=True)``):
#: together they reach every regime those properties declare.
ANY_PINNED: tuple[tuple[Geometry, MaskSpec], ...] = (
    # one query after keys from past 0, a 2-D mask shorter than the keys: the keys past it hold no token
    (Geometry(1, 1, 4, 5, 2, ((T, T, T),)), MaskSpec("causal")),
    # fewer keys than queries, no 2-D mask, a window of one key
    (Geometry(2, 4, 2, 1, 0), MaskSpec("sliding_window_causal", window=1)),
    # left padding, a window narrower than the keys
    (Geometry(2, 3, 5, 2, 1, ((F, T, T, T, T, T), (T, T, T, T, T, T))), MaskSpec("sliding_window_overlay", window=3)),
    # right padding, chunks narrower than the keys after left padding
    (Geometry(1, 2, 3, 0, 0, ((T, T, F),)), MaskSpec("chunked_causal", chunk=2, left_padding=(1,))),
    # a hole in the 2-D mask, a chunk wider than the keys
    (Geometry(1, 2, 4, 1, 0, ((T, F, T, T),)), MaskSpec("chunked_overlay", chunk=6, left_padding=(0,))),
    (Geometry(2, 2, 2), MaskSpec("padding", padding=((T, F), (F, F)))),
    (Geometry(1, 3, 3), MaskSpec("bidirectional")),
    # a window at least the keys
    (Geometry(1, 2, 3), MaskSpec("sliding_window_causal", window=5)),
)


def pinned_examples(*, any_call: bool = False, **fixed):
    """Explicit examples ``data=0, 1, ...`` (with the ``fixed`` arguments), one per pinned call: of the
    longest phase of :data:`PINNED` (:func:`draw_case` turns each index into that call of the property's
    phase, or None where the phase has fewer), or of :data:`ANY_PINNED` (:func:`draw_any_call`)."""
    from layer_conformance.strategies.core import examples

    count = len(ANY_PINNED) if any_call else max(len(calls) for calls in PINNED.values())
    return examples(*({"data": index, **fixed} for index in range(count)))


def draw_any_call(data, impl, kinds) -> tuple[Geometry, MaskSpec, dict] | None:
    """Any builder call (``geometries(realistic=False)``: offsets and 2-D mask lengths free), or, when
    ``data`` is an index, the pinned call of that index (:data:`ANY_PINNED`): None when its mask function
    is not among ``kinds`` or the implementation lacks it.  The call is labelled with its regimes."""
    if isinstance(data, int):
        geo, spec = ANY_PINNED[data]
        kinds = available(impl, kinds)
        if spec.kind not in kinds:
            return None
        geo, spec, extra = adjust(geo, spec, realistic=False, impl=impl)
        label_call(geo, spec, kinds, realistic=False, phase=None, left_padding=honours_left_padding(impl))
        return geo, spec, extra
    geo = data.draw(geometries(realistic=False, label=False), label="geometry")
    return builder_spec(data, impl, geo, kinds, realistic=False)


def draw_case(data, impl, phase: str, kinds) -> tuple[Geometry, MaskSpec, dict] | None:
    """A builder call for ``phase`` (decode: one query; prefill: several), or, when ``data`` is an index
    instead of Hypothesis' data, the phase's pinned call of that index (:data:`PINNED`): None when there
    is none, when its mask function is not among ``kinds`` or when the implementation lacks it.  The call
    is labelled with its regimes (:func:`label_call`)."""
    if isinstance(data, int):
        calls, kinds = PINNED[phase], available(impl, kinds)
        if data >= len(calls) or calls[data][1].kind not in kinds:
            return None
        geo, spec, extra = adjust(*calls[data], impl=impl)
        label_call(geo, spec, kinds, realistic=True, phase=phase, left_padding=honours_left_padding(impl))
        return geo, spec, extra
    geo = data.draw(geometries(phase=phase, label=False), label="geometry")
    return builder_spec(data, impl, geo, kinds, realistic=True, phase=phase)
