"""Run-wide choices made on the command line (device, dtypes), read by properties and strategies."""

from __future__ import annotations

import torch

__all__ = [
    "attention_compile",
    "device",
    "dtype_allowed",
    "dtypes",
    "hypothesis_settings",
    "restore",
    "set_device",
    "set_dtypes",
    "set_attention_compile",
    "set_hypothesis_settings",
]

_DEVICE = torch.device("cpu")
_DTYPES: tuple[torch.dtype, ...] | None = None
_KNOWN = {"float64": torch.float64, "float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def device() -> torch.device:
    """The device the properties run on (``--conformance-device``; cpu by default)."""
    return _DEVICE


def set_device(name: str) -> None:
    global _DEVICE
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--conformance-device cuda: torch.cuda.is_available() is False on this machine")
    _DEVICE = dev


def dtypes() -> tuple[torch.dtype, ...] | None:
    """The dtypes selected with ``--conformance-dtype`` (None: all)."""
    return _DTYPES


def set_dtypes(spec: str | None) -> None:
    global _DTYPES
    if not spec:
        _DTYPES = None
        return
    names = [n.strip().removeprefix("torch.") for n in spec.split(",") if n.strip()]
    unknown = [n for n in names if n not in _KNOWN]
    if unknown:
        raise ValueError(f"--conformance-dtype: unknown dtype(s) {', '.join(unknown)}; choose from {', '.join(_KNOWN)}")
    _DTYPES = tuple(_KNOWN[n] for n in names)


def restore(device_: torch.device, dtypes_: tuple[torch.dtype, ...] | None) -> None:
    """Put back a device and dtype selection saved earlier (end of an in-process session)."""
    global _DEVICE, _DTYPES
    _DEVICE, _DTYPES = device_, dtypes_


def dtype_allowed(dtype: torch.dtype) -> bool:
    return _DTYPES is None or dtype in _DTYPES


_SETTINGS = None


def hypothesis_settings():
    """The Hypothesis settings of the suite's properties (the chosen profile; see
    :mod:`layer_conformance.plugin.profiles`), for a property that runs Hypothesis itself (a state
    machine); Hypothesis' current default outside a conformance run."""
    if _SETTINGS is not None:
        return _SETTINGS
    from hypothesis import settings

    return settings.default


def set_hypothesis_settings(value) -> None:
    global _SETTINGS
    _SETTINGS = value


_ATTENTION_COMPILE = "eager"


def attention_compile() -> str:
    """How backends that compile themselves run (``--attention-compile``): "eager" or "compiled"."""
    return _ATTENTION_COMPILE


def set_attention_compile(mode: str) -> str:
    """Set the mode; returns the previous one (for the end of an in-process session)."""
    global _ATTENTION_COMPILE
    if mode not in ("eager", "compiled"):
        raise ValueError(f"--attention-compile {mode}: choose eager or compiled")
    previous, _ATTENTION_COMPILE = _ATTENTION_COMPILE, mode
    return previous
