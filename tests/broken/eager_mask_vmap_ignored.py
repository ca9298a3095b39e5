"""eager_mask accepts ``use_vmap`` but always evaluates the mask function on broadcast index tensors: a mask
function written for single indices fails."""

from layer_conformance.reference import masks as _ref

causal_mask_function = _ref.causal_mask_function
sdpa_mask = _ref.sdpa_mask


def eager_mask(*args, use_vmap=False, **kwargs):
    return _ref.eager_mask(*args, **kwargs)


KILLED_BY = ["test_masks.py::test_use_vmap_changes_nothing"]
