"""GradientCheckpointingLayer: use_cache and the cache arguments are passed through while checkpointing."""

from tests.broken._gc_base import make_layer

GradientCheckpointingLayer = make_layer(keep_cache=True)

KILLED_BY = [
    "test_checkpointing.py::test_cache_is_turned_off_while_checkpointing",
]
