"""prune_linear_layer builds the new layer in the default dtype (float32), whatever the layer's dtype."""

import torch

from layer_conformance.reference import pytorch_utils as _ref


def prune_linear_layer(layer, index, dim=0):
    return _ref.prune_linear_layer(layer, index, dim=dim).to(torch.get_default_dtype())


KILLED_BY = ["test_pruning.py::test_pruned_parameters_keep_dtype_and_device_and_require_grad"]
