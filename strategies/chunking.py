"""Strategies for ``apply_chunking_to_forward``: input shapes with a chunk dim and a chunk size.

Regimes (:data:`CHUNK_REGIMES`, :mod:`layer_conformance.strategies.regimes`): no chunking (size 0),
chunks of one, one chunk (the whole dim), several chunks of several; a negative chunk dim, a chunk dim
before the last; one input, several, and several whose shapes differ outside the chunk dim (only the
chunk dim must agree: transformers once rejected them, issue #8349).  Every draw is labelled; the
draws lean towards these boundaries, nothing is filtered.  :data:`PINNED_SPECS` reach each of them
for the properties' explicit examples.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from layer_conformance.strategies.regimes import Regimes

from .core import shapes

__all__ = ["CHUNK_REGIMES", "PINNED_SPECS", "ChunkSpec", "chunk_regimes", "chunk_specs", "divisors"]


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


@dataclass(frozen=True)
class ChunkSpec:
    """Input shapes, a dim (possibly negative) and a chunk size dividing that dim (0: no chunking).

    ``shape`` is the first input's shape; ``input_shapes`` are every input's (one input of ``shape``
    when empty): they agree along ``chunk_dim`` and may differ elsewhere."""

    shape: tuple[int, ...]
    chunk_dim: int
    chunk_size: int
    input_shapes: tuple[tuple[int, ...], ...] = ()

    @property
    def size(self) -> int:
        return self.shape[self.chunk_dim]

    @property
    def num_chunks(self) -> int:
        return 1 if self.chunk_size == 0 else self.size // self.chunk_size

    @property
    def shapes(self) -> tuple[tuple[int, ...], ...]:
        """The shape of every input."""
        return self.input_shapes or (self.shape,)

    @property
    def n(self) -> int:
        """The number of inputs."""
        return len(self.shapes)

    @property
    def same_shapes(self) -> bool:
        return len(set(self.shapes)) == 1


#: The regimes of a chunking call.
CHUNK_REGIMES = Regimes(
    "chunking",
    {
        "no chunking (chunk size 0)": lambda s: s.chunk_size == 0,
        "chunks of one": lambda s: s.chunk_size == 1 and s.size > 1,
        "one chunk (the whole dim)": lambda s: s.chunk_size == s.size > 1,
        "several chunks of several": lambda s: 1 < s.chunk_size < s.size,
        "a negative chunk dim": lambda s: s.chunk_dim < 0,
        "a chunk dim before the last": lambda s: s.chunk_dim % len(s.shape) < len(s.shape) - 1,
        "one input": lambda s: s.n == 1,
        "several inputs": lambda s: s.n > 1,
        "inputs whose shapes differ outside the chunk dim": lambda s: not s.same_shapes,
    },
)


def chunk_regimes(*, allow_zero: bool = True, max_inputs: int = 1, differ: bool = True) -> list[str]:
    """The regimes of :data:`CHUNK_REGIMES` that :func:`chunk_specs` declares for these arguments."""
    names = [n for n in CHUNK_REGIMES.names if n != "no chunking (chunk size 0)" or allow_zero]
    if max_inputs == 1:
        names = [
            n
            for n in names
            if n not in ("one input", "several inputs", "inputs whose shapes differ outside the chunk dim")
        ]
    elif not differ:
        names.remove("inputs whose shapes differ outside the chunk dim")
    return names


@st.composite
def chunk_specs(
    draw: st.DrawFn,
    *,
    max_side: int = 6,
    allow_zero: bool = True,
    max_inputs: int = 1,
    differ: bool = True,
    label: bool = True,
) -> ChunkSpec:
    """A shape (rank 1-4) whose chunk dim leans towards sizes with several divisors (4, 6), a chunk dim
    given as positive or negative, a dividing chunk size whose class is drawn first (0 when
    ``allow_zero``, 1, the whole dim, one in between, any), and 1 to ``max_inputs`` inputs, each after
    the first of the first's shape or (``differ``) of a shape that differs outside the chunk dim.
    Labelled with its :data:`CHUNK_REGIMES` (unless ``label`` is False: a property that uses part of
    the spec labels what it uses)."""
    rest = draw(shapes(min_rank=0, max_rank=3, max_side=max_side, max_numel=32), label="other dims")
    size = draw(st.one_of(st.sampled_from([4, 6]), st.integers(1, max_side)), label="chunk dim size")
    position = draw(st.integers(0, len(rest)), label="chunk dim")
    shape = (*rest[:position], size, *rest[position:])
    dim = -(len(shape) - position) if draw(st.booleans(), label="negative_dim") else position
    options = divisors(size)
    between = [d for d in options if 1 < d < size]
    classes = [st.just(1), st.just(size), st.sampled_from(between or options), st.sampled_from(options)]
    if allow_zero:
        classes.insert(0, st.just(0))
    chunk_size = draw(st.one_of(*classes), label="chunk_size")
    n = draw(st.integers(1, max_inputs), label="inputs") if max_inputs > 1 else 1
    input_shapes = [shape]
    for _ in range(1, n):
        others = [j for j in range(len(shape)) if j != position]
        if differ and others and draw(st.booleans(), label="differs"):
            other = list(shape)
            j = draw(st.sampled_from(others), label="differing dim")
            new = draw(st.integers(1, max_side - 1), label="differing size")
            other[j] = new if new < shape[j] else new + 1  # any size but the first input's
            input_shapes.append(tuple(other))
        else:
            input_shapes.append(shape)
    spec = ChunkSpec(shape, dim, chunk_size, tuple(input_shapes) if n > 1 else ())
    if not label:
        return spec
    return CHUNK_REGIMES.label(
        spec, declared=chunk_regimes(allow_zero=allow_zero, max_inputs=max_inputs, differ=differ)
    )


#: Specs that together reach every regime of :data:`CHUNK_REGIMES`, for explicit examples (a property
#: labels them itself: they bypass the strategy).
PINNED_SPECS = (
    # several chunks of several, negative dim before the last, inputs differing outside the chunk dim
    ChunkSpec((2, 6, 3), -2, 2, ((2, 6, 3), (1, 6, 3), (2, 6, 5))),
    # chunks of one, one input
    ChunkSpec((4,), 0, 1),
    # one chunk, several inputs of one shape
    ChunkSpec((3, 4), 1, 4, ((3, 4), (3, 4))),
    # no chunking, inputs differing outside the chunk dim
    ChunkSpec((2, 3), 0, 0, ((2, 3), (2, 1))),
)
