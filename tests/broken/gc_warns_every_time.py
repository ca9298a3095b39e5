"""GradientCheckpointingLayer warns every time it turns caching off, not once per layer class
(``logger.warning`` in transformers 4.53-4.55; ``warning_once`` from 4.56, #40091)."""

from tests.broken._gc_base import make_layer

GradientCheckpointingLayer = make_layer(warn="when changed")

KILLED_BY = ["test_checkpointing.py::test_turning_caching_off_is_warned_about"]
