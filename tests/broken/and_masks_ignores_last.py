"""and_masks ignores its last mask function."""

from layer_conformance.reference import masks as _ref
from layer_conformance.reference.masks import causal_mask_function, or_masks  # noqa: F401


def and_masks(*mask_functions):
    return _ref.and_masks(*mask_functions[:-1])


KILLED_BY = [
    "test_masks.py::test_and_or_masks_are_the_logical_and_or_of_truth_tables",
    "test_masks.py::test_mask_algebra_laws",
]
