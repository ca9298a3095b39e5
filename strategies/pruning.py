"""Strategies for head pruning and index-based layer pruning.

Regimes (:mod:`layer_conformance.strategies.regimes`): :data:`HEAD_REGIMES` -- nothing requested, every
head requested, a head requested twice, an already pruned head requested, nothing pruned before, every
head pruned before, one head in all; :data:`INDEX_REGIMES` -- one index kept, every index kept.  Every
draw is labelled; the draws lean towards them, and the index properties' explicit examples
(:func:`pinned_index`: one index, every index) reach both index regimes in every run.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from hypothesis import strategies as st

from layer_conformance.strategies.regimes import Regimes

__all__ = [
    "HEAD_REGIMES",
    "INDEX_REGIMES",
    "PINNED_HEAD_SETS",
    "HeadSet",
    "head_sets",
    "head_regimes",
    "index_kinds",
    "index_regimes",
    "pinned_index",
    "prune_indices",
]


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


#: The regimes of a head-pruning request.
HEAD_REGIMES = Regimes(
    "heads",
    {
        "nothing requested": lambda hs: not hs.heads,
        "every head requested": lambda hs: set(hs.heads) == set(range(hs.total_heads)),
        "a head requested twice": lambda hs: len(set(hs.heads)) < len(hs.heads),
        "an already pruned head requested": lambda hs: bool(set(hs.heads) & hs.already_pruned),
        "nothing pruned before": lambda hs: not hs.already_pruned,
        "some heads pruned before": lambda hs: 0 < len(hs.already_pruned) < hs.total_heads,
        "every head pruned before": lambda hs: hs.n_heads == 0,
        "one head in all": lambda hs: hs.total_heads == 1,
    },
)


@st.composite
def head_sets(draw: st.DrawFn, *, max_heads: int = 8, max_head_size: int = 4, pruned_before: bool = True) -> HeadSet:
    """A head layout and a pruning request: empty sets, all heads and repeated heads included.

    The request is drawn from all heads of the unpruned layer, so it may name
    heads that are already pruned (they must be ignored).  The heads pruned before
    lean towards none and all (with ``pruned_before=False``: none); the draw is labelled
    with its :data:`HEAD_REGIMES` (:func:`head_regimes`).
    """
    total = draw(st.integers(1, max_heads), label="total_heads")
    head_size = draw(st.integers(1, max_head_size), label="head_size")
    all_heads = list(range(total))
    # one flag per head: no uniqueness retries, and it shrinks to the empty set
    before = draw(st.sampled_from(["some", "some", "none", "all"]), label="pruned before") if pruned_before else "none"
    if before == "some":
        flags = draw(st.lists(st.booleans(), min_size=total, max_size=total), label="already_pruned")
    else:
        flags = [before == "all"] * total
    already = frozenset(h for h, pruned in zip(all_heads, flags, strict=True) if pruned)
    heads = draw(
        st.one_of(
            st.lists(st.sampled_from(all_heads), max_size=2 * total),  # any, repeats allowed
            st.just(all_heads),  # all heads
            st.just([]),  # nothing to prune
        ),
        label="heads",
    )
    return HEAD_REGIMES.label(HeadSet(total, head_size, already, tuple(heads)), declared=head_regimes(pruned_before))


def head_regimes(pruned_before: bool = True) -> list[str]:
    """The regimes of :data:`HEAD_REGIMES` that :func:`head_sets` declares: all, or without heads pruned
    before, those of the request and the layout only."""
    if pruned_before:
        return list(HEAD_REGIMES.names)
    return ["nothing requested", "every head requested", "a head requested twice", "one head in all"]


#: Requests for explicit examples: heads after an already pruned one (their rows move in the current
#: layout), a head requested twice, an already pruned head requested, every head requested, nothing.
PINNED_HEAD_SETS = (
    HeadSet(4, 2, frozenset({1}), (0, 2, 2, 1)),
    HeadSet(3, 1, frozenset(), (0, 1, 2)),
    HeadSet(2, 3, frozenset({0}), ()),
    HeadSet(1, 3, frozenset(), (0,)),  # one head in all
    HeadSet(2, 2, frozenset({0, 1}), (1,)),  # every head pruned before
)


#: How pruning indices are drawn: "sorted-unique" is the documented use; the
#: others are separate cases of the same properties.
index_kinds = ("sorted-unique", "unsorted-unique", "repeated")


#: The regimes of a pruning index (labelled values: ``(index list, size)``).
INDEX_REGIMES = Regimes(
    "index",
    {
        "one index kept": lambda v: len(set(v[0])) == 1,
        "every index kept": lambda v: len(set(v[0])) == v[1],
    },
)


@st.composite
def prune_indices(draw: st.DrawFn, size: int, kind: str = "sorted-unique") -> torch.Tensor:
    """A LongTensor of indices into a dimension of ``size`` (at least one index), the count leaning towards
    one and ``size``; labelled with :data:`INDEX_REGIMES` (every index only where size > 1)."""
    if kind in ("sorted-unique", "unsorted-unique"):
        count = draw(st.one_of(st.just(1), st.just(size), st.integers(1, size)), label="count")
        chosen = draw(st.permutations(range(size)))[:count]
        if kind == "sorted-unique":
            chosen = sorted(chosen)
    elif kind == "repeated":
        chosen = draw(st.lists(st.integers(0, size - 1), min_size=1, max_size=2 * size))
    else:  # pragma: no cover - programming error
        raise ValueError(f"unknown index kind {kind!r}")
    INDEX_REGIMES.label((chosen, size), declared=index_regimes(size, kind))
    return torch.tensor(chosen, dtype=torch.long)


def index_regimes(size: int, kind: str = "sorted-unique") -> list[str]:
    """The regimes of :data:`INDEX_REGIMES` that :func:`prune_indices` declares for ``size`` and ``kind``."""
    return ["one index kept", "every index kept"] if size > 1 and kind != "repeated" else ["one index kept"]


def pinned_index(size: int, count: int | None, kind: str = "sorted-unique") -> torch.Tensor:
    """For explicit examples: the first ``count`` indices of ``size`` (every one when ``count`` is None), in
    order, labelled as :func:`prune_indices` labels its draws (``kind`` decides what is declared)."""
    chosen = list(range(size if count is None else min(count, size)))
    INDEX_REGIMES.label((chosen, size), declared=index_regimes(size, kind))
    return torch.tensor(chosen, dtype=torch.long)
