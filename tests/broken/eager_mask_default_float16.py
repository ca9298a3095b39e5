"""eager_mask defaults to float16 when no ``dtype`` is given (documented: float32)."""

import torch

from layer_conformance.reference import masks as _ref
from layer_conformance.reference.masks import causal_mask_function, sdpa_mask  # noqa: F401


def eager_mask(*args, dtype=torch.float16, **kwargs):
    return _ref.eager_mask(*args, dtype=dtype, **kwargs)


KILLED_BY = ["test_masks.py::test_builder_defaults"]
