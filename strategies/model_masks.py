"""Calls of the mask entry points models make (``create_causal_mask`` and its siblings), and packed sequences.

An :class:`EntryCall` is what a model's forward passes an entry point, without a cache: the batch and
length of its input embeddings, the 2-D padding mask (or none), the position ids (or none: packed
sequences restart them within a row; one row is broadcast to a larger batch, as models pass
``position_ids`` unsqueezed), the window or chunk size of its config, overlays (``or_mask_function`` /
``and_mask_function``, drawn as tables) and, for cross attention, the encoder's length.
:meth:`EntryCall.expected` is the documented mask, computed point by point in plain Python.

Regimes (:data:`ENTRY_REGIMES`) the draws must reach: left and right padding, a chunk boundary inside a
left-padded row, packed sequences (under chunks too, with a sequence starting off a chunk boundary),
position ids unsqueezed for a larger batch and position ids beside a padding mask (which they do not
override), a window shorter than the row, each overlay, cross-attention keys, and the plain call a
builder may skip.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import torch
from hypothesis import strategies as st

from .masks import padding_rows
from .regimes import Regimes

__all__ = [
    "ENTRIES",
    "ENTRY_REGIMES",
    "PACKING_REGIMES",
    "EntryCall",
    "entry_calls",
    "entry_regimes",
    "packed_positions",
    "pinned_entry_calls",
]

#: The entry points judged alike, with their layer kind: the contract name -> kind.
ENTRIES = {
    "create_causal_mask": "causal",
    "create_sliding_window_causal_mask": "sliding",
    "create_chunked_causal_mask": "chunked",
    "create_bidirectional_mask": "bidirectional",
}

Table = tuple[tuple[tuple[bool, ...], ...], ...]  # [batch][q][kv]


@dataclass(frozen=True)
class EntryCall:
    """One call of a mask entry point, as a model's forward makes it (no cache)."""

    entry: str
    batch: int
    q_length: int
    #: the 2-D padding mask's rows (True: a real token), or None
    padding: tuple[tuple[bool, ...], ...] | None = None
    #: position ids' rows: ``batch`` rows, or one row a model passes unsqueezed; None: not passed
    positions: tuple[tuple[int, ...], ...] | None = None
    window: int | None = None
    chunk: int | None = None
    or_table: Table | None = None
    and_table: Table | None = None
    #: cross attention (bidirectional only): the encoder's length; None: the queries' own tokens
    encoder_length: int | None = None

    @property
    def kind(self) -> str:
        return ENTRIES[self.entry]

    @property
    def causal(self) -> bool:
        return self.kind != "bidirectional"

    @property
    def kv_length(self) -> int:
        return self.encoder_length if self.encoder_length is not None else self.q_length

    def position_rows(self) -> list[list[int]] | None:
        if self.positions is None:
            return None
        rows = [list(r) for r in self.positions]
        return rows * self.batch if len(rows) == 1 else rows

    def packed(self) -> list[list[int]] | None:
        """Each token's sequence within its row, when the entry point reads the position ids as packed
        sequences (a causal kind, no padding mask, a restart in some row); else None."""
        rows = self.position_rows()
        if rows is None or self.padding is not None or not self.causal:
            return None
        indices = [[0] * self.q_length for _ in rows]
        for b, row in enumerate(rows):
            for i in range(1, len(row)):
                indices[b][i] = indices[b][i - 1] + (row[i] != row[i - 1] + 1)
        return indices if any(r[-1] for r in indices) else None

    def left_padding(self, b: int) -> int:
        if self.padding is None:
            return 0
        row = self.padding[b]
        return next((i for i, real in enumerate(row) if real), len(row))

    def base(self, b: int, q: int, kv: int) -> bool:
        """The layer kind's pattern at (query, key) positions ``q``, ``kv``."""
        if self.kind == "bidirectional":
            return True
        if kv > q:
            return False
        if self.kind == "sliding":
            return kv > q - self.window
        if self.kind == "chunked":
            pad = self.left_padding(b)
            return (kv - pad) // self.chunk == (q - pad) // self.chunk
        return True

    def function_table(self) -> torch.Tensor:
        """The documented mask function the builder must get, over the grid (no padding): bool
        ``[batch, 1, q, kv]``."""
        packed = self.packed()
        rows = self.position_rows()
        out = torch.zeros(self.batch, 1, self.q_length, self.kv_length, dtype=torch.bool)
        for b in range(self.batch):
            for q in range(self.q_length):
                for kv in range(self.kv_length):
                    qp, kp = (rows[b][q], rows[b][kv]) if packed else (q, kv)
                    value = self.base(b, qp, kp)
                    if self.or_table is not None:
                        value = value or self.or_table[b][q][kv]
                    if self.and_table is not None:
                        value = value and self.and_table[b][q][kv]
                    if packed:
                        value = value and packed[b][q] == packed[b][kv]
                    out[b, 0, q, kv] = value
        return out

    def expected(self) -> torch.Tensor:
        """The documented mask: the mask function's table and the padding mask, bool ``[batch, 1, q, kv]``."""
        table = self.function_table()
        if self.padding is not None:
            table &= torch.tensor(self.padding, dtype=torch.bool)[:, None, None, :]
        return table

    # ----------------------------------------------------------------- the call's arguments

    def config_fields(self) -> dict[str, Any]:
        return {"sliding_window": self.window, "attention_chunk_size": self.chunk}

    def inputs_embeds(self, dtype: torch.dtype, device) -> torch.Tensor:
        return torch.zeros(self.batch, self.q_length, 4, dtype=dtype, device=device)

    def encoder_hidden_states(self, dtype: torch.dtype, device) -> torch.Tensor | None:
        if self.encoder_length is None:
            return None
        return torch.zeros(self.batch, self.encoder_length, 4, dtype=dtype, device=device)

    def attention_mask(self, device) -> torch.Tensor | None:
        if self.padding is None:
            return None
        return torch.tensor(self.padding, dtype=torch.long, device=device)

    def position_ids(self, device) -> torch.Tensor | None:
        if self.positions is None:
            return None
        return torch.tensor(self.positions, dtype=torch.long, device=device)

    def overlay(self, which: str, device):
        table = self.or_table if which == "or" else self.and_table
        if table is None:
            return None
        values = torch.tensor(table, dtype=torch.bool, device=device)

        def overlay(batch_idx, head_idx, q_idx, kv_idx):
            return values[batch_idx, q_idx, kv_idx]

        overlay.__name__ = f"{which}_table"
        return overlay

    def call(self) -> str:
        """The call, written out for failure messages (booleans as 0/1)."""

        def plain(value: Any) -> Any:
            if isinstance(value, tuple):
                return [plain(v) for v in value]
            return int(value) if isinstance(value, bool) else value

        fields = ("padding", "positions", "window", "chunk", "or_table", "and_table", "encoder_length")
        parts = [f"batch={self.batch}", f"q_length={self.q_length}"]
        parts += [f"{name}={plain(getattr(self, name))}" for name in fields if getattr(self, name) is not None]
        return f"{self.entry}({', '.join(parts)})"


def _restarts(rows: list[list[int]]) -> bool:
    return any(r[i] != r[i - 1] + 1 for r in rows for i in range(1, len(r)))


ENTRY_REGIMES = Regimes(
    "mask entry call",
    {
        "left padding": lambda c: c.padding is not None and any(not r[0] for r in c.padding if any(r)),
        "right padding": lambda c: c.padding is not None and any(not r[-1] for r in c.padding if any(r)),
        "a chunk boundary inside a left-padded row": lambda c: (
            c.kind == "chunked"
            and any(
                0 < c.left_padding(b) and c.left_padding(b) % c.chunk and c.q_length - c.left_padding(b) > 1
                for b in range(c.batch)
            )  # fmt: skip
        ),
        "packed sequences": lambda c: c.packed() is not None,
        "packed sequences under chunks, one starting off a chunk boundary": lambda c: (
            c.kind == "chunked"
            and c.packed() is not None
            and any(r[i] != r[i - 1] + 1 and i % c.chunk for r in c.position_rows() for i in range(1, len(r)))
        ),
        "position ids unsqueezed for a larger batch": lambda c: (
            c.positions is not None and len(c.positions) == 1 and c.batch > 1
        ),
        "restarting position ids beside a padding mask": lambda c: (
            c.causal and c.padding is not None and c.positions is not None and _restarts(c.position_rows())
        ),
        "a window shorter than the row": lambda c: c.kind == "sliding" and c.window < c.q_length,
        "an or overlay": lambda c: c.or_table is not None,
        "an and overlay": lambda c: c.and_table is not None,
        "cross-attention keys": lambda c: c.encoder_length is not None and c.encoder_length != c.q_length,
        "plain: the builder may skip the mask": lambda c: (
            c.padding is None and c.or_table is None and c.and_table is None and c.packed() is None
        ),
    },
)


def entry_regimes(entry: str) -> tuple[str, ...]:
    """The regimes of :data:`ENTRY_REGIMES` calls of ``entry`` can reach."""
    kind = ENTRIES[entry]
    names = []
    for name in ENTRY_REGIMES.names:
        if "chunk" in name and kind != "chunked":
            continue
        if name == "a window shorter than the row" and kind != "sliding":
            continue
        if name == "cross-attention keys" and kind != "bidirectional":
            continue
        if kind == "bidirectional" and ("packed" in name or "position ids" in name):
            continue
        names.append(name)
    return tuple(names)


@st.composite
def packed_positions(draw: st.DrawFn, length: int) -> tuple[int, ...]:
    """One row of position ids of ``length`` tokens: one sequence from 0 or from a later start, several
    packed sequences (each restarting at 0 or elsewhere), or a repeated position."""
    style = draw(st.sampled_from(["one", "offset", "packed", "repeat"]), label="positions")
    if style == "one":
        return tuple(range(length))
    if style == "offset":
        start = draw(st.integers(1, 5))
        return tuple(range(start, start + length))
    if style == "repeat" and length >= 2:
        at = draw(st.integers(1, length - 1))
        return tuple(range(at)) + tuple(range(at - 1, at - 1 + length - at))
    row: list[int] = []
    while len(row) < length:
        size = draw(st.integers(1, length - len(row)))
        start = draw(st.sampled_from([0, 0, 2]))
        row += range(start, start + size)
    return tuple(row)


def _table(draw: st.DrawFn, batch: int, q: int, kv: int) -> Table:
    style = draw(st.sampled_from(["diagonal", "first key", "any"]), label="overlay")
    if style == "diagonal":
        return tuple(tuple(tuple(i == j for j in range(kv)) for i in range(q)) for _ in range(batch))
    if style == "first key":
        return tuple(tuple(tuple(j == 0 for j in range(kv)) for _ in range(q)) for _ in range(batch))
    return tuple(
        tuple(tuple(draw(st.lists(st.booleans(), min_size=kv, max_size=kv))) for _ in range(q)) for _ in range(batch)
    )


@st.composite
def entry_calls(draw: st.DrawFn, entry: str, *, labelled: bool = True) -> EntryCall:
    """A call of ``entry`` (a key of :data:`ENTRIES`), labelled with its :data:`ENTRY_REGIMES` (unless
    ``labelled`` is False: a property for which the calls are only inputs, not what it judges)."""
    kind = ENTRIES[entry]
    batch = draw(st.integers(1, 3), label="batch")
    q_length = draw(st.integers(1, 7), label="q_length")
    call = EntryCall(entry, batch, q_length)
    if kind == "sliding":
        call = replace(call, window=draw(st.integers(1, q_length + 1), label="window"))
    if kind == "chunked":
        call = replace(call, chunk=draw(st.integers(1, q_length + 1), label="chunk"))
    if kind == "bidirectional" and draw(st.booleans(), label="cross attention"):
        call = replace(call, encoder_length=draw(st.integers(1, 7), label="encoder_length"))
    if draw(st.booleans(), label="padding mask"):
        call = replace(call, padding=draw(padding_rows(batch=batch, length=call.kv_length)))
    if kind != "bidirectional" and draw(st.booleans(), label="position ids"):
        rows = 1 if batch > 1 and draw(st.booleans(), label="unsqueezed") else batch
        call = replace(call, positions=tuple(draw(packed_positions(q_length)) for _ in range(rows)))
    if call.packed() is None:  # overlays see token indices; packed sequences are judged without them
        if draw(st.booleans(), label="or overlay"):
            call = replace(call, or_table=_table(draw, batch, q_length, call.kv_length))
        if draw(st.booleans(), label="and overlay"):
            call = replace(call, and_table=_table(draw, batch, q_length, call.kv_length))
    return ENTRY_REGIMES.label(call, declared=entry_regimes(entry)) if labelled else call


def diagonal(batch: int, n: int) -> Table:
    """An overlay table: each query attends the key of its own index."""
    return tuple(tuple(tuple(i == j for j in range(n)) for i in range(n)) for _ in range(batch))


def pinned_entry_calls(entry: str) -> tuple[EntryCall, ...]:
    """Explicit examples for ``entry`` that reach every one of its regimes in every run."""
    kind = ENTRIES[entry]
    extra: dict[str, Any] = {"window": 2} if kind == "sliding" else {"chunk": 3} if kind == "chunked" else {}
    left = ((False, True, True, True, True, True), (True,) * 6)
    calls = [
        EntryCall(entry, 2, 6, padding=left, **extra),  # left padding (a chunk boundary shifted by it)
        EntryCall(entry, 2, 6, padding=(left[0][::-1], left[1]), or_table=diagonal(2, 6), **extra),  # right, or
        EntryCall(entry, 1, 6, and_table=diagonal(1, 6), **extra),  # an and overlay, no padding
        EntryCall(entry, 1, 6, **extra),  # plain (a window / chunk shorter than the row)
    ]
    if kind == "bidirectional":
        calls.append(EntryCall(entry, 2, 3, padding=((False, True, True, True, True),) * 2, encoder_length=5))
    else:
        calls += [
            EntryCall(entry, 2, 6, positions=((0, 1, 0, 1, 2, 3),), **extra),  # packed, unsqueezed, off a chunk
            EntryCall(entry, 2, 6, padding=left, positions=((0, 1, 0, 1, 2, 3), (0, 1, 2, 3, 4, 5)), **extra),
        ]
    return tuple(calls)


#: The regimes of position ids given to ``find_packed_sequence_indices``.
PACKING_REGIMES = Regimes(
    "position ids",
    {
        "one sequence per row, starting past 0": lambda rows: not _restarts(rows) and any(r[0] > 0 for r in rows),
        "several sequences in a row": lambda rows: _restarts(rows),
        "a restart to a position other than 0": lambda rows: any(
            r[i] != r[i - 1] + 1 and r[i] != 0 for r in rows for i in range(1, len(r))
        ),
        "a repeated position": lambda rows: any(r[i] == r[i - 1] for r in rows for i in range(1, len(r))),
        "one row packed, another not": lambda rows: len({_restarts([r]) for r in rows}) == 2,
    },
)
