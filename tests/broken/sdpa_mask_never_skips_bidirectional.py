"""sdpa_mask accepts ``allow_is_bidirectional_skip`` but always returns the mask, even when every key is attended."""

from layer_conformance.reference import masks as _ref

bidirectional_mask_function = _ref.bidirectional_mask_function
causal_mask_function = _ref.causal_mask_function


def sdpa_mask(*args, allow_is_bidirectional_skip=False, **kwargs):
    return _ref.sdpa_mask(*args, **kwargs)


KILLED_BY = ["test_masks.py::test_bidirectional_skip_returns_none_exactly_when_every_key_is_attended"]
