"""prune_linear_layer along the input dim reuses the original bias Parameter instead of a copy."""

from layer_conformance.reference import pytorch_utils as _ref


def prune_linear_layer(layer, index, dim=0):
    new = _ref.prune_linear_layer(layer, index, dim=dim)
    if dim == 1 and layer.bias is not None:
        new.bias = layer.bias
    return new


KILLED_BY = ["test_pruning.py::test_pruned_layer_shares_no_storage_and_original_is_untouched"]
