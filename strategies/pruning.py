"""Strategies for head pruning and index-based layer pruning."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from hypothesis import strategies as st

__all__ = ["HeadSet", "head_sets", "index_kinds", "prune_indices"]


@dataclass(frozen=True)
class HeadSet:
    """Arguments of ``find_pruneable_heads_and_indices`` for one layer.

    ``total_heads`` is the head count of the unpruned layer; ``already_pruned``
    are heads pruned earlier (so the current layout has ``n_heads`` heads);
    ``heads`` is the request, in the unpruned numbering, possibly repeating
    heads or naming already pruned ones.
    """

    total_heads: int
    head_size: int
    already_pruned: frozenset[int]
    heads: tuple[int, ...]

    @property
    def n_heads(self) -> int:
        return self.total_heads - len(self.already_pruned)

    def call_args(self) -> tuple[list[int], int, int, set[int]]:
        return list(self.heads), self.n_heads, self.head_size, set(self.already_pruned)


@st.composite
def head_sets(draw: st.DrawFn, *, max_heads: int = 8, max_head_size: int = 4) -> HeadSet:
    """A head layout and a pruning request: empty sets, all heads and repeated heads included.

    The request is drawn from all heads of the unpruned layer, so it may name
    heads that are already pruned (they must be ignored).
    """
    total = draw(st.integers(1, max_heads), label="total_heads")
    head_size = draw(st.integers(1, max_head_size), label="head_size")
    all_heads = list(range(total))
    # one flag per head: no uniqueness retries, and it shrinks to the empty set
    flags = draw(st.lists(st.booleans(), min_size=total, max_size=total), label="already_pruned")
    already = frozenset(h for h, pruned in zip(all_heads, flags, strict=True) if pruned)
    heads = draw(
        st.one_of(
            st.lists(st.sampled_from(all_heads), max_size=2 * total),  # any, repeats allowed
            st.just(all_heads),  # all heads
            st.just([]),  # nothing to prune
        ),
        label="heads",
    )
    return HeadSet(total, head_size, already, tuple(heads))


#: How pruning indices are drawn: "sorted-unique" is the documented use; the
#: others are separate cases of the same properties.
index_kinds = ("sorted-unique", "unsorted-unique", "repeated")


@st.composite
def prune_indices(draw: st.DrawFn, size: int, kind: str = "sorted-unique") -> torch.Tensor:
    """A LongTensor of indices into a dimension of ``size`` (at least one index)."""
    if kind in ("sorted-unique", "unsorted-unique"):
        count = draw(st.integers(1, size), label="count")
        chosen = draw(st.permutations(range(size)))[:count]
        if kind == "sorted-unique":
            chosen = sorted(chosen)
    elif kind == "repeated":
        chosen = draw(st.lists(st.integers(0, size - 1), min_size=1, max_size=2 * size))
    else:  # pragma: no cover - programming error
        raise ValueError(f"unknown index kind {kind!r}")
    return torch.tensor(chosen, dtype=torch.long)
