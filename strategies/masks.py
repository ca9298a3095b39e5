"""Strategies for mask functions and mask-builder geometries.

A :class:`MaskSpec` names one mask function of the contract with its parameters;
it builds the implementation's function and answers the truth of every point
from its own plain-Python definition (the oracle).  A :class:`Geometry` is one
call of ``sdpa_mask`` / ``eager_mask``: sizes, offsets and the 2-D padding mask.

Regimes (:mod:`layer_conformance.strategies.regimes`): :data:`GEOMETRY_REGIMES` --
decode / prefill, no 2-D mask / a mask without padding / left / right / inner
padding, ``q_offset`` 0 / > 0, ``kv_offset`` > 0, as many keys as queries / more
/ fewer, keys past the last query (a static cache), a 2-D mask shorter than the
keys; :data:`SPEC_REGIMES` -- windows of 1 key / narrower than the keys / at
least the keys, chunks likewise, chunks after left padding, padding rows left /
right / inner / fully padded.  Every draw is labelled; the draws lean towards
these boundaries (``st.one_of(boundaries, general)``), nothing is filtered.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from hypothesis import strategies as st

from layer_conformance.strategies.regimes import Regimes

__all__ = [
    "GEOMETRY_REGIMES",
    "LIST_REGIMES",
    "MASK_KINDS",
    "PINNED_SPECS",
    "SPEC_REGIMES",
    "Geometry",
    "MaskSpec",
    "geometries",
    "grid",
    "mask_spec_lists",
    "mask_specs",
    "padding_kinds",
    "truth_table",
]


def padding_kinds(rows: Sequence[Sequence[bool]] | None) -> set[str]:
    """What padding the rows of a 2-D mask show: ``left`` (masked tokens before the first attended
    one), ``right`` (after the last), ``inner`` (between two attended ones), ``full`` (a row with
    nothing attended)."""
    kinds: set[str] = set()
    for row in rows or ():
        row = list(row)
        if not any(row):
            kinds.update({"full"} if row else set())
            continue
        first = row.index(True)
        last = len(row) - 1 - row[::-1].index(True)
        if first > 0:
            kinds.add("left")
        if last < len(row) - 1:
            kinds.add("right")
        if not all(row[first : last + 1]):
            kinds.add("inner")
    return kinds


@dataclass(frozen=True)
class MaskSpec:
    """One mask function of the contract: its kind and parameters."""

    kind: str
    window: int = 0  # sliding window size
    chunk: int = 0  # chunk size
    left_padding: tuple[int, ...] = ()  # per batch row, for the chunked kinds
    padding: tuple[tuple[bool, ...], ...] = ()  # 2-D padding mask, for the padding kind

    def __repr__(self) -> str:
        params = {"window": self.window, "chunk": self.chunk, "left_padding": self.left_padding}
        shown = ", ".join(f"{k}={v}" for k, v in params.items() if v)
        if self.padding:
            shown += (", " if shown else "") + f"padding={[[int(x) for x in row] for row in self.padding]}"
        return f"MaskSpec({self.kind}{', ' + shown if shown else ''})"

    @property
    def needs(self) -> str:
        """The contract name this spec builds."""
        return MASK_KINDS[self.kind]

    def build(self, impl: Any, device: torch.device | str = "cpu") -> Callable[..., Any]:
        fn = getattr(impl, self.needs)
        if self.kind in ("causal", "bidirectional"):
            return fn
        if self.kind in ("sliding_window_overlay", "sliding_window_causal"):
            return fn(self.window)
        if self.kind in ("chunked_overlay", "chunked_causal"):
            return fn(self.chunk, torch.tensor(self.left_padding, dtype=torch.long, device=device))
        if self.kind == "padding":
            return fn(torch.tensor(self.padding, dtype=torch.bool, device=device))
        raise ValueError(self.kind)  # pragma: no cover

    def truth(self, b: int, h: int, q: int, kv: int) -> bool:
        """The documented value at one point, computed in plain Python."""
        if self.kind == "causal":
            return kv <= q
        if self.kind == "bidirectional":
            return True
        if self.kind == "sliding_window_overlay":
            return kv > q - self.window
        if self.kind == "sliding_window_causal":
            return q - self.window < kv <= q
        if self.kind in ("chunked_overlay", "chunked_causal"):
            start = self.left_padding[b]
            same = (kv - start) // self.chunk == (q - start) // self.chunk  # floor division, as documented
            return same and (kv <= q or self.kind == "chunked_overlay")
        if self.kind == "padding":
            return self.padding[b][kv]
        raise ValueError(self.kind)  # pragma: no cover

    def call(self) -> str:
        """How the function is built, for failure messages."""
        name = self.needs
        if self.kind in ("causal", "bidirectional"):
            return name
        if self.kind.startswith("sliding"):
            return f"{name}({self.window})"
        if self.kind.startswith("chunked"):
            return f"{name}({self.chunk}, torch.tensor({list(self.left_padding)}))"
        return f"{name}(torch.tensor({[[int(x) for x in row] for row in self.padding]}))"


#: spec kind -> contract name it builds
MASK_KINDS: dict[str, str] = {
    "causal": "causal_mask_function",
    "bidirectional": "bidirectional_mask_function",
    "sliding_window_overlay": "sliding_window_overlay",
    "sliding_window_causal": "sliding_window_causal_mask_function",
    "chunked_overlay": "chunked_overlay",
    "chunked_causal": "chunked_causal_mask_function",
    "padding": "padding_mask_function",
}


def _keys_relative(width: int, keys: int) -> tuple[bool, bool, bool]:
    """(one, narrower, at least) of a window or chunk of ``width`` against ``keys`` key positions."""
    return width == 1, 1 < width < keys, width >= keys and width > 1


#: The regimes of a mask spec, against the key positions it serves (``kv_end`` of :func:`mask_specs`):
#: windows and chunks of one, narrower than the keys or at least as wide, chunks counted after left
#: padding, padding rows of each shape.  Labelled values are ``(spec, kv_end)``.
SPEC_REGIMES = Regimes(
    "mask function",
    {
        "window of one key": lambda v: v[0].kind.startswith("sliding") and v[0].window == 1,
        "window narrower than the keys": lambda v: v[0].kind.startswith("sliding") and 1 < v[0].window < v[1],
        "window at least the keys": lambda v: v[0].kind.startswith("sliding") and v[0].window >= max(v[1], 2),
        "chunk of one": lambda v: v[0].kind.startswith("chunked") and v[0].chunk == 1,
        "chunk narrower than the keys": lambda v: v[0].kind.startswith("chunked") and 1 < v[0].chunk < v[1],
        "chunk at least the keys": lambda v: v[0].kind.startswith("chunked") and v[0].chunk >= max(v[1], 2),
        "chunks after left padding": lambda v: v[0].kind.startswith("chunked") and any(v[0].left_padding),
        "no padding": lambda v: v[0].kind == "padding" and all(all(r) for r in v[0].padding),
        "left padding": lambda v: v[0].kind == "padding" and "left" in padding_kinds(v[0].padding),
        "right padding": lambda v: v[0].kind == "padding" and "right" in padding_kinds(v[0].padding),
        "inner padding": lambda v: v[0].kind == "padding" and "inner" in padding_kinds(v[0].padding),
        "a fully padded row": lambda v: v[0].kind == "padding" and "full" in padding_kinds(v[0].padding),
    },
)

#: The regimes of :data:`SPEC_REGIMES` each kind can reach.
_KIND_REGIMES = {
    "sliding": ("window of one key", "window narrower than the keys", "window at least the keys"),
    "chunked": ("chunk of one", "chunk narrower than the keys", "chunk at least the keys", "chunks after left padding"),
    "padding": ("no padding", "left padding", "right padding", "inner padding", "a fully padded row"),
}


def spec_regimes(kinds: Sequence[str], kv_end: int, *, left_padding: bool = True) -> list[str]:
    """The regimes of :data:`SPEC_REGIMES` that specs of ``kinds`` serving ``kv_end`` key positions can reach
    (chunks after left padding only when ``left_padding`` is drawn)."""
    names: list[str] = []
    for kind in kinds:
        family = kind.split("_")[0]
        for name in _KIND_REGIMES.get(family, ()):
            reachable = {
                "window narrower than the keys": kv_end >= 3,
                "chunk narrower than the keys": kv_end >= 3,
                "left padding": kv_end >= 2,
                "right padding": kv_end >= 2,
                "inner padding": kv_end >= 3,
                "chunks after left padding": left_padding,
            }.get(name, True)
            if reachable and name not in names:
                names.append(name)
    return names


_T, _F = True, False

#: Specs of each kind for 2 batch rows and 4 key positions, run by the mask-function properties as explicit
#: examples: together they reach every regime of :data:`SPEC_REGIMES` in every run.
PINNED_SPECS: dict[str, tuple[MaskSpec, ...]] = {
    **{
        kind: (MaskSpec(kind, window=1), MaskSpec(kind, window=2), MaskSpec(kind, window=5))
        for kind in ("sliding_window_overlay", "sliding_window_causal")
    },
    **{
        kind: (
            MaskSpec(kind, chunk=1, left_padding=(0, 0)),
            MaskSpec(kind, chunk=2, left_padding=(1, 0)),
            MaskSpec(kind, chunk=4, left_padding=(0, 2)),
        )
        for kind in ("chunked_overlay", "chunked_causal")
    },
    "padding": tuple(
        MaskSpec("padding", padding=(row, (_T, _T, _T, _T)))
        for row in ((_T, _T, _T, _T), (_F, _T, _T, _T), (_T, _T, _T, _F), (_T, _F, _T, _T), (_F, _F, _F, _F))
    ),
}


@st.composite
def padding_rows(draw: st.DrawFn, *, batch: int, length: int) -> tuple[tuple[bool, ...], ...]:
    """``batch`` rows of a 2-D mask of ``length`` tokens, shaped as padding comes: none, left, right, a
    hole inside, a fully padded first row, or any booleans (one shape per call, drawn first)."""
    style = draw(st.sampled_from(["none", "left", "right", "inner", "full", "any"]), label="padding")
    rows = []
    for b in range(batch):
        if style == "none" or (style == "full" and b > 0):
            rows.append((True,) * length)
        elif style == "full":
            rows.append((False,) * length)
        elif style in ("left", "right"):
            # the first row is padded (when it can be), the others any amount, a fully padded row included
            low = 1 if b == 0 and length >= 2 else 0
            pad = draw(st.integers(low, max(low, length - 1 if b == 0 else length)))
            row = (False,) * pad + (True,) * (length - pad)
            rows.append(row if style == "left" else row[::-1])
        elif style == "inner" and length >= 3:
            start = draw(st.integers(1, length - 2))
            hole = draw(st.integers(1, length - 1 - start))
            rows.append((True,) * start + (False,) * hole + (True,) * (length - start - hole))
        else:
            rows.append(tuple(draw(st.lists(st.booleans(), min_size=length, max_size=length))))
    return tuple(rows)


def widths(keys: int, max_param: int = 6) -> st.SearchStrategy[int]:
    """A window or chunk size for ``keys`` key positions: the class first -- one key, narrower than the
    keys (when there is room), at least the keys, or any size up to ``max_param`` -- then the size."""
    classes = [st.just(1), st.integers(max(keys, 2), max(keys, 2) + 2), st.integers(1, max_param)]
    if keys >= 3:
        classes.insert(1, st.integers(2, keys - 1))
    return st.one_of(*classes)


@st.composite
def mask_specs(
    draw: st.DrawFn,
    *,
    batch: int,
    kv_end: int,
    kinds: Sequence[str] = tuple(MASK_KINDS),
    max_param: int = 6,
    left_padding: bool = True,
    label: bool = True,
) -> MaskSpec:
    """A mask function spec usable for ``batch`` rows and key positions below ``kv_end``.

    Windows and chunks lean towards 1 and towards ``kv_end`` (at least the keys), left padding towards 0,
    padding rows towards each shape of padding (:func:`padding_rows`); chunked kinds draw a left padding
    per row unless ``left_padding`` is False (then every row has none); the draw is labelled with its
    :data:`SPEC_REGIMES` (unless ``label`` is False)."""
    kind = draw(st.sampled_from(list(kinds)), label="kind")
    if kind in ("sliding_window_overlay", "sliding_window_causal"):
        spec = MaskSpec(kind, window=draw(widths(kv_end, max_param), label="window"))
    elif kind in ("chunked_overlay", "chunked_causal"):
        chunk = draw(widths(kv_end, max_param), label="chunk")
        pads = (0,) * batch
        if left_padding:
            pads = draw(
                st.lists(st.one_of(st.just(0), st.integers(1, max_param)), min_size=batch, max_size=batch),
                label="left_padding",
            )
        spec = MaskSpec(kind, chunk=chunk, left_padding=tuple(pads))
    elif kind == "padding":
        spec = MaskSpec(kind, padding=draw(padding_rows(batch=batch, length=kv_end), label="padding"))
    else:
        spec = MaskSpec(kind)
    if label:
        SPEC_REGIMES.label((spec, kv_end), declared=spec_regimes(kinds, kv_end, left_padding=left_padding))
    return spec


#: The regimes of a list of mask specs (the arguments of ``and_masks`` / ``or_masks``).
LIST_REGIMES = Regimes(
    "mask functions",
    {
        "none": lambda specs: len(specs) == 0,
        "one": lambda specs: len(specs) == 1,
        "several": lambda specs: len(specs) > 1,
        "several kinds": lambda specs: len({s.kind for s in specs}) > 1,
    },
)


@st.composite
def mask_spec_lists(
    draw: st.DrawFn,
    *,
    batch: int,
    kv_end: int,
    kinds: Sequence[str],
    min_size: int = 0,
    max_size: int = 4,
    left_padding: bool = True,
) -> list[MaskSpec]:
    """Lists of mask specs (:func:`mask_specs`, chunked ones with a left padding unless ``left_padding`` is
    False), their length drawn first, leaning towards none and one; labelled with :data:`LIST_REGIMES` (the
    specs' own regimes are not declared: one list mixes kinds)."""
    size = draw(
        st.one_of(st.sampled_from(range(min_size, min(min_size + 2, max_size) + 1)), st.integers(min_size, max_size))
    )
    specs = [
        draw(mask_specs(batch=batch, kv_end=kv_end, kinds=kinds, left_padding=left_padding, label=False))
        for _ in range(size)
    ]
    declared = [name for name, n in (("none", 0), ("one", 1), ("several", 2)) if min_size <= n <= max_size]
    if len(kinds) > 1 and max_size > 1:
        declared.append("several kinds")
    return LIST_REGIMES.label(specs, declared=declared)


def grid(
    batch: int, heads: int, q_length: int, kv_length: int, q_offset: int = 0, kv_offset: int = 0, device="cpu"
) -> tuple[torch.Tensor, ...]:
    """Broadcastable index tensors ``(b, h, q, kv)`` of shapes [B,1,1,1], [1,H,1,1], [1,1,Q,1], [1,1,1,KV]."""
    b = torch.arange(batch, device=device).view(-1, 1, 1, 1)
    h = torch.arange(heads, device=device).view(1, -1, 1, 1)
    q = (torch.arange(q_length, device=device) + q_offset).view(1, 1, -1, 1)
    kv = (torch.arange(kv_length, device=device) + kv_offset).view(1, 1, 1, -1)
    return b, h, q, kv


def truth_table(
    truth: Callable[[int, int, int, int], bool],
    batch: int,
    heads: int,
    q_length: int,
    kv_length: int,
    q_offset: int = 0,
    kv_offset: int = 0,
) -> torch.Tensor:
    """Brute force: ``truth`` at every point of the grid, as a bool tensor [B, H, Q, KV]."""
    values = [
        [
            [[truth(b, h, q_offset + i, kv_offset + j) for j in range(kv_length)] for i in range(q_length)]
            for h in range(heads)
        ]
        for b in range(batch)
    ]
    return torch.tensor(values, dtype=torch.bool).reshape(batch, heads, q_length, kv_length)


@dataclass(frozen=True)
class Geometry:
    """One mask-builder call: sizes, offsets and the 2-D padding mask (per absolute key position)."""

    batch: int
    q_length: int
    kv_length: int
    q_offset: int = 0
    kv_offset: int = 0
    attention_mask: tuple[tuple[bool, ...], ...] | None = field(default=None)

    @property
    def kv_end(self) -> int:
        return self.kv_offset + self.kv_length

    @property
    def q_end(self) -> int:
        return self.q_offset + self.q_length

    def attention_mask_tensor(self, device: torch.device | str = "cpu") -> torch.Tensor | None:
        if self.attention_mask is None:
            return None
        return torch.tensor(self.attention_mask, dtype=torch.bool, device=device)

    def padding(self, b: int, kv: int) -> bool:
        """The 2-D mask at an absolute key position (False beyond its length)."""
        if self.attention_mask is None:
            return True
        row = self.attention_mask[b]
        return kv < len(row) and row[kv]

    def keeping_window(self, window: int) -> Geometry:
        """The same call with a key window that reaches ``window - 1`` tokens back before the first query
        (or to position 0), as sliding-window and chunked caches keep them; its end stays."""
        start = min(self.kv_offset, max(self.q_offset - (window - 1), 0))
        return dataclasses.replace(self, kv_offset=start, kv_length=self.kv_end - start)

    def kwargs(self) -> dict[str, Any]:
        return {
            "batch_size": self.batch,
            "q_length": self.q_length,
            "kv_length": self.kv_length,
            "q_offset": self.q_offset,
            "kv_offset": self.kv_offset,
        }

    def call(self, name: str, mask_call: str, **extra: Any) -> str:
        am = None if self.attention_mask is None else [[int(x) for x in row] for row in self.attention_mask]
        args = ", ".join(f"{k}={v}" for k, v in self.kwargs().items())
        more = "".join(f", {k}={v}" for k, v in extra.items())
        am_part = "" if am is None else f", attention_mask=torch.tensor({am}).bool()"
        return f"{name}({args}, mask_function={mask_call}{am_part}{more})"


def _mask_lengths(geo: Geometry) -> set[int]:
    return {len(row) for row in geo.attention_mask or ()}


#: The regimes of a mask-builder call's geometry.
GEOMETRY_REGIMES = Regimes(
    "geometry",
    {
        "decode": lambda g: g.q_length == 1,
        "prefill": lambda g: g.q_length > 1,
        "no 2-D mask": lambda g: g.attention_mask is None,
        "a 2-D mask without padding": lambda g: g.attention_mask is not None and not padding_kinds(g.attention_mask),
        "left padding": lambda g: "left" in padding_kinds(g.attention_mask),
        "right padding": lambda g: "right" in padding_kinds(g.attention_mask),
        "inner padding": lambda g: "inner" in padding_kinds(g.attention_mask),
        "q_offset 0": lambda g: g.q_offset == 0,
        "q_offset > 0": lambda g: g.q_offset > 0,
        "kv_offset > 0": lambda g: g.kv_offset > 0,
        "as many keys as queries": lambda g: g.kv_length == g.q_length,
        "more keys than queries": lambda g: g.kv_length > g.q_length,
        "fewer keys than queries": lambda g: g.kv_length < g.q_length,
        "keys past the last query (static cache)": lambda g: g.kv_end > g.q_end,
        "a 2-D mask shorter than the keys": lambda g: any(n < g.kv_end for n in _mask_lengths(g)),
    },
)

_PHASES = {"decode": ("decode",), "prefill": ("prefill",), None: ("decode", "prefill")}


def geometry_regimes(*, realistic: bool, phase: str | None) -> list[str]:
    """The regimes of :data:`GEOMETRY_REGIMES` that :func:`geometries` declares for these arguments."""
    common = ["no 2-D mask", "a 2-D mask without padding", "left padding", "right padding", "inner padding"]
    common += ["q_offset 0", "q_offset > 0", "kv_offset > 0", "more keys than queries"]
    if realistic:
        extra = ["as many keys as queries", "keys past the last query (static cache)"]
    else:
        extra = ["fewer keys than queries", "a 2-D mask shorter than the keys"]
    return [*_PHASES[phase], *common, *extra]


@st.composite
def geometries(
    draw: st.DrawFn,
    *,
    max_len: int = 6,
    max_batch: int = 3,
    realistic: bool = True,
    phase: str | None = None,
    q_lengths: st.SearchStrategy[int] | None = None,
    label: bool = True,
) -> Geometry:
    """Mask-builder calls as models make them.

    ``realistic`` keeps to the callers' invariants, under which a skipped (None)
    causal mask can stand for sdpa's ``is_causal``: the key window starts at or
    before the first query and reaches at least the last one (``kv_offset <=
    q_offset``, ``q_offset + q_length <= kv_offset + kv_length``); the 2-D mask,
    when given, covers the tokens seen so far (length ``q_offset + q_length``,
    zero-padded beyond, as for a static cache); without it, every key is a seen
    token (the key window ends at the last query).  Masks with a window of ``w``
    positions (sliding, chunked) also need the key window to keep the ``w - 1``
    tokens before the first query (:meth:`Geometry.keeping_window`), as their
    caches do.  Otherwise offsets and the mask length are free.  ``phase``
    ``"decode"`` draws one query, ``"prefill"`` several; ``q_lengths`` overrides the
    query lengths (then no phase is declared).

    Offsets lean towards 0 and towards the first query, key windows towards the
    last query, 2-D masks towards each shape of padding (:func:`padding_rows`) and
    towards covering the keys; the draw is labelled with its :data:`GEOMETRY_REGIMES`
    (unless ``label`` is False: a caller that adjusts the geometry labels the call it makes).
    """
    batch = draw(st.integers(1, max_batch), label="batch")
    custom_lengths = q_lengths is not None
    if q_lengths is None:
        q_lengths = {
            "decode": st.just(1),
            "prefill": st.one_of(st.just(2), st.integers(2, max_len)),
            None: st.one_of(st.just(1), st.integers(1, max_len)),
        }[phase]
    q_length = draw(q_lengths, label="q_length")
    q_offset = draw(st.one_of(st.just(0), st.integers(1, max_len)), label="q_offset")
    with_mask = draw(st.booleans(), label="with_attention_mask")
    if realistic:
        kv_offset = draw(st.one_of(st.just(0), st.just(q_offset), st.integers(0, q_offset)), label="kv_offset")
        min_kv = q_offset + q_length - kv_offset
        extra = draw(st.one_of(st.just(0), st.integers(1, max_len)), label="static_slots") if with_mask else 0
        kv_length = min_kv + extra
        mask_len = q_offset + q_length
    else:
        kv_offset = draw(st.one_of(st.just(0), st.integers(1, max_len)), label="kv_offset")
        kv_length = draw(st.integers(1, max_len), label="kv_length")
        kv_end = kv_offset + kv_length
        mask_len = draw(st.one_of(st.just(kv_end), st.integers(1, kv_end + 2)), label="mask_length")
    attention_mask = draw(padding_rows(batch=batch, length=mask_len), label="attention_mask") if with_mask else None
    geo = Geometry(batch, q_length, kv_length, q_offset, kv_offset, attention_mask)
    if not label:
        return geo
    declared = geometry_regimes(realistic=realistic, phase=phase)
    if custom_lengths:  # the caller's query lengths: no phase is declared
        declared = [name for name in declared if name not in ("decode", "prefill")]
    return GEOMETRY_REGIMES.label(geo, declared=declared)
