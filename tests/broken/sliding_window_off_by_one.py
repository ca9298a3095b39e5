"""sliding_window_overlay keeps one key too many: ``kv >= q - w`` instead of ``kv > q - w``."""

from layer_conformance.reference.masks import and_masks, causal_mask_function


def sliding_window_overlay(sliding_window):
    return lambda b, h, q, kv: kv >= q - sliding_window


def sliding_window_causal_mask_function(sliding_window):
    return and_masks(sliding_window_overlay(sliding_window), causal_mask_function)


KILLED_BY = ["test_masks.py::test_mask_function_truth_table"]
