"""GradientCheckpointingLayer turns caching off without any warning."""

from tests.broken._gc_base import make_layer

GradientCheckpointingLayer = make_layer(warn="never")

KILLED_BY = ["test_checkpointing.py::test_turning_caching_off_is_warned_about"]
