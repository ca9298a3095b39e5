"""Run-wide choices made on the command line (device), read by properties and strategies."""

from __future__ import annotations

import torch

__all__ = ["device", "set_device"]

_DEVICE = torch.device("cpu")


def device() -> torch.device:
    """The device the properties run on (``--device``; cpu by default)."""
    return _DEVICE


def set_device(name: str) -> None:
    global _DEVICE
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda: torch.cuda.is_available() is False on this machine")
    _DEVICE = dev
