"""GradientCheckpointingLayer: every wrapper of a subclass chain checkpoints, so a derived layer is recomputed twice."""

from tests.broken._gc_base import make_layer

GradientCheckpointingLayer = make_layer(every_level=True)

KILLED_BY = [
    "test_checkpointing.py::test_subclass_of_a_layer_checkpoints_once",
]
