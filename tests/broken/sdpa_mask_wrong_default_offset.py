"""sdpa_mask and eager_mask default kv_offset to 1 instead of 0."""

from layer_conformance.reference import masks as _ref
from layer_conformance.reference.masks import causal_mask_function  # noqa: F401


def sdpa_mask(batch_size, q_length, kv_length, q_offset=0, kv_offset=1, **kwargs):
    return _ref.sdpa_mask(batch_size, q_length, kv_length, q_offset, kv_offset, **kwargs)


def eager_mask(batch_size, q_length, kv_length, q_offset=0, kv_offset=1, **kwargs):
    return _ref.eager_mask(batch_size, q_length, kv_length, q_offset, kv_offset, **kwargs)


KILLED_BY = ["test_masks.py::test_builder_defaults"]
