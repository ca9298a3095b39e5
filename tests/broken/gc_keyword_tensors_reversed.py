"""GradientCheckpointingLayer: keyword tensors are moved to positional arguments, in reverse order."""

from tests.broken._gc_base import make_layer

GradientCheckpointingLayer = make_layer(keyword_tensors_reversed=True)

KILLED_BY = [
    "test_checkpointing.py::test_reentrant_keyword_input_gradient_is_right_or_absent",
]
