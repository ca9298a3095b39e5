"""A configurable GradientCheckpointingLayer for the broken implementations (not one itself)."""

import functools
import logging

import torch
from torch import nn

logger = logging.getLogger("tests.broken")

CACHE = ("cache", "past_key_values", "past_key_value", "layer_past")


def make_layer(
    *,
    drop_kwargs=False,
    detach=False,
    keep_cache=False,
    ignore_mode=False,
    every_level=False,
    keyword_tensors_reversed=False,
    default_on=False,
    wraps=True,
    warn="once",
):
    """A GradientCheckpointingLayer with one thing changed.  ``warn``: ``"once"`` (per layer class, the
    documented rule), ``"when changed"`` (every time caching is turned off), ``"always"`` (every
    checkpointed call) or ``"never"``."""
    warned: set[str] = set()

    class GradientCheckpointingLayer(nn.Module):
        gradient_checkpointing = default_on
        _gradient_checkpointing_func = functools.partial(torch.utils.checkpoint.checkpoint, use_reentrant=False)

        def __init_subclass__(cls, **kwargs):
            super().__init_subclass__(**kwargs)
            forward = cls.forward

            def wrapped(self, *args, **kw):
                outermost = every_level or type(self).forward is wrapped
                active = self.gradient_checkpointing and (ignore_mode or (self.training and torch.is_grad_enabled()))
                if not (outermost and active):
                    return forward(self, *args, **kw)
                changed = False
                if not keep_cache:
                    if kw.get("use_cache"):
                        kw["use_cache"], changed = False, True
                    for name in CACHE:
                        if kw.get(name) is not None:
                            kw[name], changed = None, True
                name = type(self).__name__
                if warn == "always" or (warn == "when changed" and changed):
                    logger.warning("caching turned off in %s", name)
                elif warn == "once" and changed and name not in warned:
                    warned.add(name)
                    logger.warning("caching turned off in %s", name)
                if drop_kwargs:
                    kw = {}
                if keyword_tensors_reversed:
                    tensors = [k for k, v in kw.items() if isinstance(v, torch.Tensor)]
                    args = args + tuple(kw.pop(k) for k in reversed(tensors))
                out = self._gradient_checkpointing_func(functools.partial(forward, self, **kw), *args)
                return out.detach() if detach else out

            cls.forward = functools.wraps(forward)(wrapped) if wraps else wrapped

    return GradientCheckpointingLayer
