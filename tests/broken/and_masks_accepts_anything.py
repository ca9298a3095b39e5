"""and_masks and or_masks accept non-callable arguments (the error comes later, at the first call)."""

import torch

from layer_conformance.reference.masks import causal_mask_function  # noqa: F401


def and_masks(*mask_functions):
    def and_mask(b, h, q, kv):
        result = torch.ones((), dtype=torch.bool)
        for fn in mask_functions:
            result = result & fn(b, h, q, kv)
        return result

    return and_mask


def or_masks(*mask_functions):
    def or_mask(b, h, q, kv):
        result = torch.zeros((), dtype=torch.bool)
        for fn in mask_functions:
            result = result | fn(b, h, q, kv)
        return result

    return or_mask


KILLED_BY = ["test_masks.py::test_non_callable_argument_is_an_error"]
