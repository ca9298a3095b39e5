"""eager_mask always returns float32, whatever ``dtype`` asks for (0 and float32's minimum)."""

import torch

from layer_conformance.reference import masks as _ref
from layer_conformance.reference.masks import causal_mask_function, sdpa_mask  # noqa: F401


def eager_mask(*args, dtype=torch.float32, **kwargs):
    return _ref.eager_mask(*args, dtype=torch.float32, **kwargs)


KILLED_BY = ["test_masks.py::test_eager_mask_is_the_mask_as_zero_and_dtype_min"]
