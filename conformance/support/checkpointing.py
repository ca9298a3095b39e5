"""Layers the checkpointing properties build on top of an implementation's GradientCheckpointingLayer.

They are subclasses of the implementation's
class, created once per implementation (5.x wraps ``forward`` when a subclass is
created, 4.57.x overrides ``__call__``: both are exercised the way models use
them).  Each layer counts its forward calls and records the keyword arguments
it received.
"""

from __future__ import annotations

import functools
from typing import Any

import torch
from torch import nn

__all__ = ["checkpointing_layers", "enable_checkpointing"]


def enable_checkpointing(layer: nn.Module, use_reentrant: bool) -> nn.Module:
    """Enable checkpointing the way a model does: on every GradientCheckpointingLayer inside ``layer``."""
    func = functools.partial(torch.utils.checkpoint.checkpoint, use_reentrant=use_reentrant)
    for module in layer.modules():
        if hasattr(module, "gradient_checkpointing"):
            module.gradient_checkpointing = True
            module._gradient_checkpointing_func = func
    return layer


@functools.cache
def checkpointing_layers(base: type) -> dict[str, type]:
    """Layer classes derived from ``base`` (an implementation's GradientCheckpointingLayer)."""

    class Counting(base):
        """Counts forward calls (the recomputation in backward included) and records keyword arguments."""

        def __init__(self, width: int) -> None:
            super().__init__()
            self.calls = 0
            self.seen_kwargs: list[dict[str, Any]] = []
            self.width = width

        def record(self, kwargs: dict[str, Any]) -> None:
            self.calls += 1
            self.seen_kwargs.append(dict(kwargs))

    class MLP(Counting):
        """x (and optionally y) -> linear, tanh, linear; keyword ``scale`` multiplies the output."""

        def __init__(self, width: int, dropout: float = 0.0) -> None:
            super().__init__(width)
            self.inp = nn.Linear(width, 2 * width)
            self.out = nn.Linear(2 * width, width)
            self.dropout = nn.Dropout(dropout)

        def forward(self, x, y=None, *, scale=1.0, **kwargs):
            """The MLP block's forward."""
            self.record({"scale": scale, **kwargs})
            h = self.inp(x if y is None else x + 2 * y)
            h = self.dropout(torch.tanh(h))
            return self.out(h) * scale

    class Caching(Counting):
        """Takes every cache keyword a version knows; returns its input transformed and the kwargs seen."""

        def __init__(self, width: int) -> None:
            super().__init__(width)
            self.lin = nn.Linear(width, width)

        def forward(self, x, **kwargs):
            self.record(kwargs)
            return self.lin(x)

    class Stack(Counting):
        """``depth`` MLP layers in sequence (each a checkpointing layer), itself a checkpointing layer."""

        def __init__(self, width: int, depth: int) -> None:
            super().__init__(width)
            self.blocks = nn.ModuleList(MLP(width) for _ in range(depth))

        def forward(self, x):
            self.record({})
            for block in self.blocks:
                x = block(x)
            return x

    class Derived(MLP):
        """A subclass overriding forward and calling the parent's: must checkpoint once, not twice."""

        def forward(self, x, y=None, *, scale=1.0, **kwargs):
            return super().forward(x, y, scale=scale, **kwargs) + 0.5

    class Sequential(nn.Module):
        """Plain ``depth`` MLP checkpointing layers in sequence (the usual model layout)."""

        def __init__(self, width: int, depth: int) -> None:
            super().__init__()
            self.blocks = nn.ModuleList(MLP(width) for _ in range(depth))

        def forward(self, x):
            for block in self.blocks:
                x = block(x)
            return x

    return {"MLP": MLP, "Caching": Caching, "Stack": Stack, "Derived": Derived, "Sequential": Sequential}
