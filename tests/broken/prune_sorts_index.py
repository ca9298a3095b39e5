"""prune_linear_layer sorts and de-duplicates the index before selecting."""

import torch

from layer_conformance.reference import pytorch_utils as _ref


def prune_linear_layer(layer, index, dim=0):
    return _ref.prune_linear_layer(layer, torch.unique(index), dim=dim)


KILLED_BY = [
    "test_pruning.py::test_pruned_outputs_equal_the_original_restricted_to_index",
    "test_pruning.py::test_pruned_layer_matches_reference",
]
