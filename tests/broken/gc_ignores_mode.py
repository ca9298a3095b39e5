"""GradientCheckpointingLayer: checkpoints in eval mode and under no_grad too (clearing the cache there)."""

from tests.broken._gc_base import make_layer

GradientCheckpointingLayer = make_layer(ignore_mode=True)

KILLED_BY = [
    "test_checkpointing.py::test_no_checkpointing_outside_training_with_grad",
]
