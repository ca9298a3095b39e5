"""eager_mask takes ``allow_is_bidirectional_skip`` but does not forward it: it never returns None."""

from layer_conformance.reference import masks as _ref

bidirectional_mask_function = _ref.bidirectional_mask_function
causal_mask_function = _ref.causal_mask_function
sdpa_mask = _ref.sdpa_mask


def eager_mask(*args, allow_is_bidirectional_skip=False, **kwargs):
    return _ref.eager_mask(*args, **kwargs)


KILLED_BY = ["test_masks.py::test_bidirectional_skip_returns_none_exactly_when_every_key_is_attended"]
