"""sdpa_mask's causal skip ignores ``local_size``: it decides as for the plain causal mask, so a sliding-window
mask with nothing padded is returned as None and sdpa's ``is_causal`` attends every earlier key, past the
window (the sdpa mask preparation of Mistral-style models, transformers #28980, fixed by #30127)."""

from layer_conformance.reference import masks as _ref
from layer_conformance.reference.attention import eager_attention_forward, sdpa_attention_forward  # noqa: F401
from layer_conformance.reference.masks import (  # noqa: F401
    causal_mask_function,
    chunked_causal_mask_function,
    eager_mask,
    sliding_window_causal_mask_function,
)


def sdpa_mask(batch_size, q_length, kv_length, q_offset=0, kv_offset=0, mask_function=causal_mask_function,
              local_size=None, allow_is_causal_skip=True, **kwargs):  # fmt: skip
    if allow_is_causal_skip and local_size is not None:
        plain = _ref.sdpa_mask(
            batch_size, q_length, kv_length, q_offset, kv_offset, allow_is_causal_skip=True, **kwargs
        )
        if plain is None:  # the skip decided for the causal mask, as if there were no window
            return None
    return _ref.sdpa_mask(batch_size, q_length, kv_length, q_offset, kv_offset, mask_function=mask_function,
                          local_size=local_size, allow_is_causal_skip=allow_is_causal_skip, **kwargs)  # fmt: skip


KILLED_BY = [
    "test_masks.py::test_sdpa_mask_returns_none_only_when_sdpa_is_causal_computes_the_mask",
    "test_masks.py::test_end_to_end_sdpa_path_equals_eager_path",
]
