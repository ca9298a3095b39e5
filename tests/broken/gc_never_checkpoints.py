"""GradientCheckpointingLayer ignores gradient_checkpointing: forward always runs plainly."""

from torch import nn


class GradientCheckpointingLayer(nn.Module):
    gradient_checkpointing = False


KILLED_BY = [
    "test_checkpointing.py::test_backward_recomputes_the_forward",
    "test_checkpointing.py::test_checkpointing_saves_fewer_activations",
    "test_checkpointing.py::test_cache_is_turned_off_while_checkpointing",
]
