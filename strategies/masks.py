"""Strategies for mask functions and mask-builder geometries.

A :class:`MaskSpec` names one mask function of the contract with its parameters;
it builds the implementation's function and answers the truth of every point
from its own plain-Python definition (the oracle).  A :class:`Geometry` is one
call of ``sdpa_mask`` / ``eager_mask``: sizes, offsets and the 2-D padding mask.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from hypothesis import strategies as st

__all__ = [
    "MASK_KINDS",
    "Geometry",
    "MaskSpec",
    "geometries",
    "grid",
    "mask_specs",
    "truth_table",
]


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


@st.composite
def mask_specs(
    draw: st.DrawFn,
    *,
    batch: int,
    kv_end: int,
    kinds: Sequence[str] = tuple(MASK_KINDS),
    max_param: int = 6,
    left_padding: bool = True,
) -> MaskSpec:
    """A mask function spec usable for ``batch`` rows and key positions below ``kv_end``; chunked kinds draw a
    left padding per row unless ``left_padding`` is False (then every row has none)."""
    kind = draw(st.sampled_from(list(kinds)), label="kind")
    if kind in ("sliding_window_overlay", "sliding_window_causal"):
        return MaskSpec(kind, window=draw(st.integers(1, max_param), label="window"))
    if kind in ("chunked_overlay", "chunked_causal"):
        chunk = draw(st.integers(1, max_param), label="chunk")
        if not left_padding:
            return MaskSpec(kind, chunk=chunk, left_padding=(0,) * batch)
        pads = draw(st.lists(st.integers(0, max_param), min_size=batch, max_size=batch), label="left_padding")
        return MaskSpec(kind, chunk=chunk, left_padding=tuple(pads))
    if kind == "padding":
        rows = draw(
            st.lists(st.lists(st.booleans(), min_size=kv_end, max_size=kv_end), min_size=batch, max_size=batch),
            label="padding",
        )
        return MaskSpec(kind, padding=tuple(tuple(r) for r in rows))
    return MaskSpec(kind)


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


@st.composite
def geometries(
    draw: st.DrawFn,
    *,
    max_len: int = 6,
    max_batch: int = 3,
    realistic: bool = True,
    q_lengths: st.SearchStrategy[int] | None = None,
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
    caches do.  Otherwise offsets and the
    mask length are free.  ``q_lengths`` overrides the query lengths (e.g.
    ``st.just(1)`` for decoding).
    """
    batch = draw(st.integers(1, max_batch), label="batch")
    q_length = draw(q_lengths if q_lengths is not None else st.integers(1, max_len), label="q_length")
    if realistic:
        q_offset = draw(st.integers(0, max_len), label="q_offset")
        kv_offset = draw(st.integers(0, q_offset), label="kv_offset")
        with_mask = draw(st.booleans(), label="with_attention_mask")
        min_kv = q_offset + q_length - kv_offset
        kv_length = draw(st.integers(min_kv, min_kv + max_len), label="kv_length") if with_mask else min_kv
        mask_len = q_offset + q_length
    else:
        q_offset = draw(st.integers(0, max_len), label="q_offset")
        kv_offset = draw(st.integers(0, max_len), label="kv_offset")
        kv_length = draw(st.integers(1, max_len), label="kv_length")
        with_mask = draw(st.booleans(), label="with_attention_mask")
        mask_len = draw(st.integers(1, kv_offset + kv_length + 2), label="mask_length")
    attention_mask = None
    if with_mask:
        style = draw(st.sampled_from(["all-ones", "left-padding", "any"]), label="mask_style")
        rows = []
        for _ in range(batch):
            if style == "all-ones":
                rows.append((True,) * mask_len)
            elif style == "left-padding":
                pad = draw(st.integers(0, mask_len))
                rows.append((False,) * pad + (True,) * (mask_len - pad))
            else:
                rows.append(tuple(draw(st.lists(st.booleans(), min_size=mask_len, max_size=mask_len))))
        attention_mask = tuple(rows)
    return Geometry(batch, q_length, kv_length, q_offset, kv_offset, attention_mask)
