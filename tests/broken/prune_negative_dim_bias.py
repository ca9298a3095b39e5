"""prune_linear_layer decides whether to prune the bias with `dim == 1`, so dim=-1 prunes it with input indices."""

import torch

from layer_conformance.reference import pytorch_utils as _ref


def prune_linear_layer(layer, index, dim=0):
    new = _ref.prune_linear_layer(layer, index, dim=dim)
    if dim == -1 and layer.bias is not None:
        keep = index[index < layer.bias.shape[0]]
        bias = torch.zeros_like(layer.bias)
        bias[: len(keep)] = layer.bias.detach()[keep]
        new.bias = torch.nn.Parameter(bias)
    return new


KILLED_BY = ["test_pruning.py::test_negative_dim_means_the_same_as_the_positive_one"]
