"""prune_conv1d_layer and prune_layer prune the bias along the input dim too (it follows the outputs only)."""

import torch

from layer_conformance.reference import pytorch_utils as _ref

Conv1D = _ref.Conv1D


def prune_conv1d_layer(layer, index, dim=1):
    new = _ref.prune_conv1d_layer(layer, index, dim=dim)
    if dim == 0:  # wrong: the bias has one entry per output
        keep = index[index < layer.bias.shape[0]]
        bias = torch.zeros_like(layer.bias)
        bias[keep] = layer.bias.detach()[keep]
        new.bias = torch.nn.Parameter(bias)
    return new


def prune_layer(layer, index, dim=None):
    if isinstance(layer, Conv1D):
        return prune_conv1d_layer(layer, index, dim=1 if dim is None else dim)
    return _ref.prune_layer(layer, index, dim)


KILLED_BY = [
    "test_pruning.py::test_pruned_inputs_equal_the_original_on_zeroed_features",
    "test_pruning.py::test_weight_and_bias_rules",
]
