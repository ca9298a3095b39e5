"""GradientCheckpointingLayer: the checkpointed output is detached from the graph."""

from tests.broken._gc_base import make_layer

GradientCheckpointingLayer = make_layer(detach=True)

KILLED_BY = [
    "test_checkpointing.py::test_checkpointed_equals_plain",
    "test_checkpointing.py::test_reentrant_positional_input_gets_its_gradient",
    "test_checkpointing.py::test_nested_checkpointing_layers_equal_plain",
]
