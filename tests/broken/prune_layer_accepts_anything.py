"""prune_layer treats every layer that is not a Conv1D as a linear layer instead of raising ValueError."""

import torch

from layer_conformance.reference import pytorch_utils as _ref


def prune_layer(layer, index, dim=None):
    if isinstance(layer, _ref.Conv1D):
        return _ref.prune_conv1d_layer(layer, index, dim=1 if dim is None else dim)
    dim = 0 if dim is None else dim
    weight = layer.weight.detach().index_select(dim, index)
    new = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=False, dtype=weight.dtype)
    new.weight = torch.nn.Parameter(weight.clone())
    return new


KILLED_BY = ["test_pruning.py::test_prune_layer_rejects_other_layer_types"]
