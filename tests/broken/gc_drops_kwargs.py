"""GradientCheckpointingLayer: keyword arguments are dropped when checkpointing."""

from tests.broken._gc_base import make_layer

GradientCheckpointingLayer = make_layer(drop_kwargs=True)

KILLED_BY = [
    "test_checkpointing.py::test_keyword_arguments_reach_forward_unchanged",
]
