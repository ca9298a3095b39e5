"""The strategies generate what their docstrings claim (and can reach the interesting cases)."""

from __future__ import annotations

import torch
from hypothesis import find, given, settings
from hypothesis import strategies as st

from layer_conformance.strategies import (
    chunk_specs,
    dtypes,
    head_sets,
    leading_dims,
    make_tensor,
    prune_indices,
    shapes,
)

FAST = settings(max_examples=60, deadline=None, database=None)


@FAST
@given(shapes(min_rank=1, max_rank=5, max_side=4, max_numel=256))
def test_shapes_respect_bounds(shape):
    assert 1 <= len(shape) <= 5
    assert all(1 <= s <= 4 for s in shape)
    assert torch.Size(shape).numel() <= 256


@FAST
@given(leading_dims())
def test_leading_dims_may_be_empty_and_stay_small(lead):
    assert len(lead) <= 4 and torch.Size(lead).numel() <= 64


def test_leading_dims_reach_rank_zero_and_rank_four():
    assert find(leading_dims(), lambda s: len(s) == 0) == ()
    assert len(find(leading_dims(), lambda s: len(s) == 4)) == 4


@FAST
@given(chunk_specs())
def test_chunk_specs_divide_the_chunked_dim(spec):
    assert -len(spec.shape) <= spec.chunk_dim < len(spec.shape)
    assert spec.chunk_size == 0 or spec.size % spec.chunk_size == 0
    assert spec.num_chunks * (spec.chunk_size or spec.size) == spec.size


def test_chunk_specs_reach_negative_dims_zero_and_several_chunks():
    find(chunk_specs(), lambda s: s.chunk_dim < 0)
    find(chunk_specs(), lambda s: s.chunk_size == 0)
    find(chunk_specs(), lambda s: s.num_chunks >= 3)
    assert all(find(chunk_specs(allow_zero=False), lambda s: True).chunk_size > 0 for _ in range(3))


@FAST
@given(head_sets())
def test_head_sets_are_consistent(hs):
    assert hs.already_pruned <= set(range(hs.total_heads))
    assert all(0 <= h < hs.total_heads for h in hs.heads)
    assert hs.n_heads == hs.total_heads - len(hs.already_pruned)


def test_head_sets_reach_empty_all_repeated_and_already_pruned_requests():
    find(head_sets(), lambda hs: not hs.heads)
    find(head_sets(), lambda hs: hs.total_heads > 1 and sorted(hs.heads) == list(range(hs.total_heads)))
    find(head_sets(), lambda hs: len(set(hs.heads)) < len(hs.heads))
    find(head_sets(), lambda hs: bool(set(hs.heads) & hs.already_pruned))
    find(head_sets(), lambda hs: hs.n_heads == 0)


@FAST
@given(st.data(), st.integers(1, 8))
def test_prune_indices_kinds(data, size):
    sorted_unique = data.draw(prune_indices(size, "sorted-unique")).tolist()
    assert sorted_unique == sorted(set(sorted_unique)) and sorted_unique
    unsorted = data.draw(prune_indices(size, "unsorted-unique")).tolist()
    assert len(set(unsorted)) == len(unsorted) and unsorted
    repeated = data.draw(prune_indices(size, "repeated")).tolist()
    assert repeated and all(0 <= i < size for i in sorted_unique + unsorted + repeated)


def test_prune_indices_reach_unsorted_and_repeated():
    find(prune_indices(5, "unsorted-unique"), lambda t: t.tolist() != sorted(t.tolist()))
    find(prune_indices(5, "repeated"), lambda t: len(set(t.tolist())) < len(t))


def test_make_tensor_replays_from_its_seed_in_every_dtype():
    a = make_tensor((3, 4), 123)
    assert torch.equal(a, make_tensor((3, 4), 123))
    assert not torch.equal(a, make_tensor((3, 4), 124))
    half = make_tensor((3, 4), 123, torch.float16)
    assert half.dtype == torch.float16 and torch.equal(half, a.half())
    assert make_tensor((2,), 0, requires_grad=True).requires_grad


def test_dtypes_default_to_float32_and_shrink_to_it():
    assert find(dtypes(allow_half=True, allow_float64=True), lambda d: True) == torch.float32
    find(dtypes(allow_half=True), lambda d: d == torch.bfloat16)
