"""GradientCheckpointingLayer: gradient checkpointing is on by default."""

from tests.broken._gc_base import make_layer

GradientCheckpointingLayer = make_layer(default_on=True)

KILLED_BY = [
    "test_checkpointing.py::test_off_by_default",
]
