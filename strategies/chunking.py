"""Strategies for ``apply_chunking_to_forward``: shapes with a chunk dim and a chunk size."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from .core import shapes

__all__ = ["ChunkSpec", "chunk_specs", "divisors"]


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


@dataclass(frozen=True)
class ChunkSpec:
    """A tensor shape, a dim (possibly negative) and a chunk size dividing that dim (0: no chunking)."""

    shape: tuple[int, ...]
    chunk_dim: int
    chunk_size: int

    @property
    def size(self) -> int:
        return self.shape[self.chunk_dim]

    @property
    def num_chunks(self) -> int:
        return 1 if self.chunk_size == 0 else self.size // self.chunk_size


@st.composite
def chunk_specs(draw: st.DrawFn, *, max_side: int = 6, allow_zero: bool = True) -> ChunkSpec:
    """A shape (rank 1-4), a chunk dim given as positive or negative, and a dividing chunk size."""
    shape = draw(shapes(min_rank=1, max_rank=4, max_side=max_side, max_numel=192), label="shape")
    dim = draw(st.integers(0, len(shape) - 1))
    if draw(st.booleans(), label="negative_dim"):
        dim -= len(shape)
    options = divisors(shape[dim]) + ([0] if allow_zero else [])
    chunk_size = draw(st.sampled_from(options), label="chunk_size")
    return ChunkSpec(shape, dim, chunk_size)
