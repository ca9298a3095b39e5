"""sdpa_mask's causal skip, in a prefill (several queries from position 0, as many keys as queries), checks the
shapes only: it returns None for a padded batch too, so sdpa's ``is_causal`` lets the queries attend the
padding tokens.  Without padding the skip is right; the bug shows only in prefill calls with a 2-D mask that
pads and the skip allowed."""

from layer_conformance.reference import masks as _ref
from layer_conformance.reference.attention import eager_attention_forward, sdpa_attention_forward  # noqa: F401
from layer_conformance.reference.masks import causal_mask_function, eager_mask  # noqa: F401


def sdpa_mask(batch_size, q_length, kv_length, q_offset=0, kv_offset=0, allow_is_causal_skip=True, **kwargs):
    plain_causal = kwargs.get("mask_function", causal_mask_function) is causal_mask_function
    if allow_is_causal_skip and plain_causal and q_length > 1 and q_offset == kv_offset == 0 and kv_length == q_length:
        return None
    return _ref.sdpa_mask(batch_size, q_length, kv_length, q_offset, kv_offset, allow_is_causal_skip=allow_is_causal_skip,
                          **kwargs)  # fmt: skip


KILLED_BY = [
    "test_masks.py::test_sdpa_mask_returns_none_only_when_sdpa_is_causal_computes_the_mask",
    "test_masks.py::test_end_to_end_sdpa_path_equals_eager_path",
]
