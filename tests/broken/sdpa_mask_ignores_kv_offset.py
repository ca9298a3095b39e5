"""sdpa_mask evaluates keys at positions 0..kv_length-1, ignoring kv_offset."""

from layer_conformance.reference import masks as _ref
from layer_conformance.reference.masks import causal_mask_function  # noqa: F401


def sdpa_mask(batch_size, q_length, kv_length, q_offset=0, kv_offset=0, **kwargs):
    return _ref.sdpa_mask(batch_size, q_length, kv_length, q_offset, 0, **kwargs)


def eager_mask(batch_size, q_length, kv_length, q_offset=0, kv_offset=0, **kwargs):
    return _ref.eager_mask(batch_size, q_length, kv_length, q_offset, 0, **kwargs)


KILLED_BY = ["test_masks.py::test_sdpa_mask_equals_truth_table", "test_masks.py::test_mask_builders_match_reference"]
