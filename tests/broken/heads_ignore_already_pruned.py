"""find_pruneable_heads_and_indices forgets to drop the already pruned heads from the request."""

import torch


def find_pruneable_heads_and_indices(heads, n_heads, head_size, already_pruned_heads):
    heads = set(heads)
    keep = torch.ones(n_heads, head_size, dtype=torch.bool)
    for head in heads:
        position = head - sum(1 for p in already_pruned_heads if p < head)
        if 0 <= position < n_heads:
            keep[position] = False
    return heads, torch.arange(n_heads * head_size)[keep.flatten()]


KILLED_BY = ["test_pruning.py::test_heads_to_prune_are_requested_minus_already_pruned"]
