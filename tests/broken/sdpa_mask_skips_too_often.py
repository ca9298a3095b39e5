"""sdpa_mask returns None for every single-query call or call at q_offset 0, whatever the padding says."""

from layer_conformance.reference import masks as _ref
from layer_conformance.reference.attention import eager_attention_forward, sdpa_attention_forward  # noqa: F401
from layer_conformance.reference.masks import causal_mask_function, eager_mask  # noqa: F401


def sdpa_mask(batch_size, q_length, kv_length, q_offset=0, kv_offset=0, allow_is_causal_skip=True, **kwargs):
    if allow_is_causal_skip and (q_length == 1 or q_offset == 0):
        return None
    return _ref.sdpa_mask(batch_size, q_length, kv_length, q_offset, kv_offset, allow_is_causal_skip=False, **kwargs)


KILLED_BY = [
    "test_masks.py::test_sdpa_mask_returns_none_only_when_sdpa_is_causal_computes_the_mask",
    "test_masks.py::test_end_to_end_sdpa_path_equals_eager_path",
]
