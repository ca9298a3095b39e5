"""prune_linear_layer copies requires_grad from the original: a frozen layer gives a frozen pruned layer."""

from layer_conformance.reference import pytorch_utils as _ref


def prune_linear_layer(layer, index, dim=0):
    new = _ref.prune_linear_layer(layer, index, dim=dim)
    new.requires_grad_(layer.weight.requires_grad)
    return new


KILLED_BY = ["test_pruning.py::test_pruned_parameters_keep_dtype_and_device_and_require_grad"]
