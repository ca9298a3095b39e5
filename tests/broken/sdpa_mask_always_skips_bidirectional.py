"""sdpa_mask returns None whenever ``allow_is_bidirectional_skip`` is set, padded keys or not."""

from layer_conformance.reference import masks as _ref

bidirectional_mask_function = _ref.bidirectional_mask_function
causal_mask_function = _ref.causal_mask_function


def sdpa_mask(*args, allow_is_bidirectional_skip=False, **kwargs):
    if allow_is_bidirectional_skip:
        return None
    return _ref.sdpa_mask(*args, **kwargs)


KILLED_BY = ["test_masks.py::test_bidirectional_skip_returns_none_exactly_when_every_key_is_attended"]
