"""sdpa_mask evaluates the mask function at head index 1 instead of 0."""

from layer_conformance.reference import masks as _ref
from layer_conformance.reference.masks import causal_mask_function  # noqa: F401


def sdpa_mask(batch_size, q_length, kv_length, q_offset=0, kv_offset=0, mask_function=causal_mask_function, **kwargs):
    def at_head_one(b, h, q, kv):
        return mask_function(b, h + 1, q, kv)

    return _ref.sdpa_mask(batch_size, q_length, kv_length, q_offset, kv_offset, mask_function=at_head_one, **kwargs)


KILLED_BY = ["test_masks.py::test_sdpa_mask_equals_truth_table"]
