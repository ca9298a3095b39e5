"""find_pruneable_heads_and_indices indexes heads in the unpruned numbering instead of the current layout."""

import torch


def find_pruneable_heads_and_indices(heads, n_heads, head_size, already_pruned_heads):
    heads = set(heads) - set(already_pruned_heads)
    keep = torch.ones(n_heads, head_size, dtype=torch.bool)
    for head in heads:
        if head < n_heads:
            keep[head] = False
    return heads, torch.arange(n_heads * head_size)[keep.flatten()]


KILLED_BY = [
    "test_pruning.py::test_index_keeps_whole_heads_of_the_current_layout",
    "test_pruning.py::test_two_rounds_equal_one_round_with_the_union",
    "test_pruning.py::test_heads_match_reference",
]
