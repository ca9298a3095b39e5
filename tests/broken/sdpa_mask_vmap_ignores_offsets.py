"""With ``use_vmap=True`` sdpa_mask evaluates the mask function at positions counted from 0: the query and key
offsets are lost on the vmap path."""

from layer_conformance.reference import masks as _ref

causal_mask_function = _ref.causal_mask_function
sliding_window_causal_mask_function = _ref.sliding_window_causal_mask_function
chunked_causal_mask_function = _ref.chunked_causal_mask_function
padding_mask_function = _ref.padding_mask_function


def sdpa_mask(batch_size, q_length, kv_length, q_offset=0, kv_offset=0, *args, use_vmap=False, **kwargs):
    if use_vmap:
        q_offset = kv_offset = 0
    return _ref.sdpa_mask(batch_size, q_length, kv_length, q_offset, kv_offset, *args, use_vmap=use_vmap, **kwargs)


KILLED_BY = ["test_masks.py::test_use_vmap_changes_nothing"]
