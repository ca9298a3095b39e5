"""The reference, with an ``sdpa_mask`` that also takes 4.57's ``cache_position`` (the query positions) and
declares it, through the ``SURFACE_ALIASES`` hook, as exercised through the canonical ``q_length``."""

from layer_conformance import reference
from layer_conformance.contract import NAMES

globals().update({name: getattr(reference, name) for name in NAMES})


def sdpa_mask(batch_size, q_length=None, kv_length=None, q_offset=0, kv_offset=0, cache_position=None, **kwargs):
    if cache_position is not None:
        q_length, q_offset = len(cache_position), int(cache_position[0]) if len(cache_position) else 0
    return reference.sdpa_mask(batch_size, q_length, kv_length, q_offset, kv_offset, **kwargs)


SURFACE_ALIASES = {"sdpa_mask(cache_position)": "sdpa_mask(q_length)"}
