"""GradientCheckpointingLayer logs its caching warning on every checkpointed call, changed or not."""

from tests.broken._gc_base import make_layer

GradientCheckpointingLayer = make_layer(warn="always")

KILLED_BY = ["test_checkpointing.py::test_turning_caching_off_is_warned_about"]
