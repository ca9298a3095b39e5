"""eager_mask uses -inf where masked instead of the dtype's minimum."""

import torch

from layer_conformance.reference import masks as _ref
from layer_conformance.reference.masks import causal_mask_function  # noqa: F401


def eager_mask(*args, dtype=torch.float32, **kwargs):
    mask = _ref.eager_mask(*args, dtype=dtype, **kwargs)
    return mask.masked_fill(mask != 0, float("-inf"))


KILLED_BY = ["test_masks.py::test_eager_mask_is_the_mask_as_zero_and_dtype_min"]
