"""GradientCheckpointingLayer: a base class whose forward runs through a checkpointing function.

Checkpointing is off by default (``gradient_checkpointing = False``).  A model
enables it by setting ``gradient_checkpointing = True`` and assigning the
checkpointing function (``functools.partial(torch.utils.checkpoint.checkpoint,
use_reentrant=...)``) to ``_gradient_checkpointing_func``.  The layer then
checkpoints its forward when it is training and gradients are enabled; caching
is turned off meanwhile (``use_cache`` False, cache arguments None), since the
replay in backward would update a cache a second time.  Positional arguments go
through the checkpointing function, keyword arguments are bound before it: with
``use_reentrant=True``, a tensor that needs gradients must be passed
positionally.

The forward of every subclass is wrapped when the class is created, so module
hooks stay outside the checkpoint; a subclass of a subclass is wrapped too,
and only the outermost wrapper checkpoints.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

__all__ = ["CHECKPOINTING_CACHE_KWARGS", "GradientCheckpointingLayer"]

logger = logging.getLogger("layer_conformance.reference")

#: Cache keyword arguments set to None while checkpointing (``use_cache`` is set to False).
CHECKPOINTING_CACHE_KWARGS = ("cache", "past_key_values", "past_key_value", "layer_past")

_warned: set[str] = set()


def _drop_cache(layer_name: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    changed = []
    if kwargs.get("use_cache"):
        kwargs["use_cache"] = False
        changed.append("use_cache=False")
    for name in CHECKPOINTING_CACHE_KWARGS:
        if kwargs.get(name) is not None:
            kwargs[name] = None
            changed.append(f"{name}=None")
    if changed and layer_name not in _warned:
        _warned.add(layer_name)
        logger.warning("caching is incompatible with gradient checkpointing in %s: %s", layer_name, ", ".join(changed))
    return kwargs


class GradientCheckpointingLayer(nn.Module):
    """Base class for layers that can checkpoint their forward (see the module docstring)."""

    gradient_checkpointing = False
    _gradient_checkpointing_func: Callable[..., Any] | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        forward = cls.forward

        @functools.wraps(forward)
        def checkpointed_forward(self: GradientCheckpointingLayer, *args: Any, **kw: Any) -> Any:
            outermost = type(self).forward is checkpointed_forward
            if outermost and self.gradient_checkpointing and self.training and torch.is_grad_enabled():
                if self._gradient_checkpointing_func is None:
                    raise RuntimeError(f"{type(self).__name__}: gradient_checkpointing is on, but no function is set")
                kw = _drop_cache(type(self).__name__, dict(kw))
                return self._gradient_checkpointing_func(functools.partial(forward, self, **kw), *args)
            return forward(self, *args, **kw)

        cls.forward = checkpointed_forward
