"""GradientCheckpointingLayer warns every time it turns caching off, not once per layer class (transformers
4.53 to 4.55 used ``logger.warning`` where 4.56 uses ``warning_once``: a generation loop logs it at every step)."""

from tests.broken._gc_base import make_layer

GradientCheckpointingLayer = make_layer(warn="when changed")

KILLED_BY = ["test_checkpointing.py::test_turning_caching_off_is_warned_about"]
