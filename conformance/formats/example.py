"""Failing examples as plain data (format ``layer-conformance-example/1``), for reports, repro scripts and baselines.

An example names the property (module and function), the implementation spec,
the device, the property's arguments and, for properties that draw from
``st.data()``, the values drawn (:func:`make_example`); the report keeps it
with the failure, and its repro script replays it
(:mod:`layer_conformance.tools.replay`).

Everything becomes JSON: tensors as ``{"tensor": {"dtype", "shape", "values"}}``
with their values as a nested list (half-precision values pass through float32
and come back exactly), dtypes and devices by name, dataclasses of the suite as
``{"dataclass": {"class": "module:QualName", "fields": {...}}}``.  Decoding never unpickles:
only dataclasses defined in ``layer_conformance`` modules are rebuilt, from
their fields.  Anything else is kept as ``{"repr": "..."}`` and makes the
example not replayable (:func:`replayable` says so).
"""

from __future__ import annotations

import dataclasses
import importlib
import math
from typing import Any

import torch

__all__ = ["EXAMPLE_FORMAT", "DecodeError", "decode", "encode", "make_example", "replayable"]

EXAMPLE_FORMAT = "layer-conformance-example/1"
_PACKAGE = "layer_conformance"


class DecodeError(ValueError):
    """Encoded data that does not follow this module's format."""


def _float(x: float) -> Any:
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def encode(value: Any) -> Any:
    """A JSON-compatible encoding of ``value``."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return {"float": _float(value)} if not math.isfinite(value) else value
    if isinstance(value, torch.Tensor):
        t = value.detach().cpu()
        if t.dtype in (torch.float16, torch.bfloat16):
            values = t.float().tolist()
        else:
            values = t.tolist()
        if t.is_floating_point():
            values = _map_floats(values)
        return {
            "tensor": {
                "dtype": str(t.dtype).removeprefix("torch."),
                "shape": list(t.shape),
                "values": values,
                "requires_grad": bool(value.requires_grad),
                "device": value.device.type,
            }
        }
    if isinstance(value, torch.dtype):
        return {"dtype": str(value).removeprefix("torch.")}
    if isinstance(value, torch.device):
        return {"device": str(value)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        if cls.__module__.startswith(_PACKAGE):
            fields = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
            return {"dataclass": {"class": f"{cls.__module__}:{cls.__qualname__}", "fields": fields}}
    if isinstance(value, tuple):
        return {"tuple": [encode(v) for v in value]}
    if isinstance(value, (list,)):
        return [encode(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return {"frozenset" if isinstance(value, frozenset) else "set": [encode(v) for v in sorted(value, key=repr)]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"dict": {k: encode(v) for k, v in value.items()}}
    return {"repr": repr(value)}


def _map_floats(values: Any) -> Any:
    if isinstance(values, list):
        return [_map_floats(v) for v in values]
    return _float(values) if isinstance(values, float) else values


def _unfloat(values: Any) -> Any:
    if isinstance(values, list):
        return [_unfloat(v) for v in values]
    if isinstance(values, str):
        return float(values)
    return values


def replayable(encoded: Any) -> bool:
    """Whether :func:`decode` can rebuild the value (no ``repr`` placeholders inside)."""
    if isinstance(encoded, dict):
        if "repr" in encoded and len(encoded) == 1:
            return False
        return all(replayable(v) for v in encoded.values())
    if isinstance(encoded, list):
        return all(replayable(v) for v in encoded)
    return True


def _dtype(name: Any) -> torch.dtype:
    dtype = getattr(torch, str(name), None)
    if not isinstance(dtype, torch.dtype):
        raise DecodeError(f"unknown dtype {name!r}")
    return dtype


def _dataclass(body: Any, device: Any) -> Any:
    try:
        module_name, _, qualname = body["class"].partition(":")
        fields = body["fields"]
    except (KeyError, TypeError, AttributeError):
        raise DecodeError("bad dataclass entry") from None
    if not (module_name == _PACKAGE or module_name.startswith(_PACKAGE + ".")):
        raise DecodeError(f"refusing to rebuild {module_name}:{qualname} (only layer_conformance classes)")
    obj: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    if not (isinstance(obj, type) and dataclasses.is_dataclass(obj)):
        raise DecodeError(f"{module_name}:{qualname} is not a dataclass")
    return obj(**{k: decode(v, device) for k, v in fields.items()})


def decode(encoded: Any, device: str | torch.device | None = None) -> Any:
    """Rebuild a value from :func:`encode`'s output (tensors on ``device``, or where they were)."""
    if encoded is None or isinstance(encoded, (bool, int, float, str)):
        return encoded
    if isinstance(encoded, list):
        return [decode(v, device) for v in encoded]
    if not isinstance(encoded, dict) or len(encoded) != 1:
        raise DecodeError(f"not an encoded value: {str(encoded)[:80]}")
    ((tag, body),) = encoded.items()
    if tag == "float":
        return float(body)
    if tag == "tensor":
        try:
            dtype = _dtype(body["dtype"])
            values = _unfloat(body["values"])
            staging = torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype
            t = torch.tensor(values, dtype=staging).reshape(body["shape"]).to(dtype)
            t = t.to(device if device is not None else body.get("device", "cpu"))
        except (KeyError, TypeError, RuntimeError) as exc:
            raise DecodeError(f"bad tensor: {exc}") from None
        if body.get("requires_grad"):
            t.requires_grad_(True)
        return t
    if tag == "dtype":
        return _dtype(body)
    if tag == "device":
        return torch.device(body)
    if tag == "tuple":
        return tuple(decode(v, device) for v in body)
    if tag in ("set", "frozenset"):
        items = [decode(v, device) for v in body]
        return frozenset(items) if tag == "frozenset" else set(items)
    if tag == "dict":
        return {k: decode(v, device) for k, v in body.items()}
    if tag == "dataclass":
        return _dataclass(body, device)
    if tag == "repr":
        raise DecodeError(f"cannot rebuild {body} (not plain data)")
    raise DecodeError(f"unknown tag {tag!r}")


def make_example(
    *, module: str, function: str, impl: str, device: str, failure: dict[str, Any], message: str
) -> dict[str, Any]:
    """The plain-data example of a failure recorded by the guard."""
    arguments = {k: encode(v) for k, v in failure["arguments"].items() if k != "impl"}
    draws = None if failure.get("draws") is None else [encode(v) for v in failure["draws"]]
    example = {
        "format": EXAMPLE_FORMAT,
        "module": module,
        "function": function,
        "impl": impl,
        "device": device,
        "arguments": arguments,
        "data": bool(failure.get("data")),
        "draws": draws,
        "message": message,
    }
    example["replayable"] = replayable(arguments) and (draws is None or replayable(draws))
    return example
