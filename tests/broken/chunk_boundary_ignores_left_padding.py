"""chunked_overlay counts chunks from position 0, ignoring the left padding (the chunked masks of
transformers 4.53-4.55 took no left padding at all, issue #40214; fixed in 4.56)."""

import torch

from layer_conformance.reference.masks import and_masks, causal_mask_function


def chunked_overlay(chunk_size, left_padding):
    def inner(b, h, q, kv):
        return torch.div(kv, chunk_size, rounding_mode="floor") == torch.div(q, chunk_size, rounding_mode="floor")

    return inner


def chunked_causal_mask_function(chunk_size, left_padding):
    return and_masks(chunked_overlay(chunk_size, left_padding), causal_mask_function)


KILLED_BY = ["test_masks.py::test_mask_function_truth_table"]
