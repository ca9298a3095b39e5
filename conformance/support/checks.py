"""Helpers shared by the properties: the ``requires`` marker and assertions whose
failure message says what was seen, what was expected and the call that did it.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
import torch

from layer_conformance import runtime
from layer_conformance.markers import ATTENTION_BACKEND, BACKEND_PARTS, REQUIRES

from .tolerances import Tol, tolerance

__all__ = [
    "assert_rejects",
    "backend_property",
    "captured_warnings",
    "as_tensor_result",
    "assert_close",
    "assert_equal",
    "assert_raises",
    "call_unmutated",
    "describe",
    "requires",
]


def requires(*names: str) -> pytest.MarkDecorator:
    """Mark a property as needing these contract names (missing ones skip it, or fail it when strict)."""
    return getattr(pytest.mark, REQUIRES)(*names)


def backend_property(*parts: str) -> pytest.MarkDecorator:
    """Mark a property as judging the selected attention backends: it takes a ``backend`` argument, which
    the plugin parametrizes (``--attention-backend``), and uses the backend's attention ``function``
    (default) and/or its mask ``builder``; its results are filed under those."""
    unknown = set(parts) - set(BACKEND_PARTS)
    if unknown:
        raise ValueError(f"backend_property: unknown parts {sorted(unknown)}")
    return getattr(pytest.mark, ATTENTION_BACKEND)(*parts)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def captured_warnings(logger_names: Sequence[str] = ("",)) -> Iterator[list[str]]:
    """Collect the warnings raised with ``warnings.warn`` and logged (WARNING and above) to the named
    loggers (the root logger by default; libraries whose loggers do not propagate name their own)."""
    handler = _Records()
    loggers = [logging.getLogger(name or None) for name in logger_names]
    messages: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for logger in loggers:
            logger.addHandler(handler)
        try:
            yield messages
        finally:
            for logger in loggers:
                logger.removeHandler(handler)
            messages.extend(handler.messages)
            messages.extend(str(w.message) for w in caught)


def describe(value: Any) -> str:
    """A short form of an argument for failure messages: tensors by shape and dtype."""
    if isinstance(value, torch.Tensor):
        extra = f", {value.device.type}" if value.device.type != "cpu" else ""
        if value.numel() <= 8 and value.dtype in (torch.long, torch.int32, torch.bool):
            return f"tensor({value.tolist()}, dtype={str(value.dtype)[6:]}{extra})"
        return f"Tensor{tuple(value.shape)}[{str(value.dtype)[6:]}{extra}]"
    if isinstance(value, torch.nn.Module):
        return type(value).__name__
    if isinstance(value, (list, tuple)):
        inner = ", ".join(describe(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    if isinstance(value, torch.dtype):
        return str(value)[6:]
    if callable(value) and hasattr(value, "__name__"):
        return value.__name__
    return repr(value)


@contextlib.contextmanager
def _no_dtensor_import() -> Iterator[None]:
    """Keep ``torch.testing.assert_close`` from importing ``torch.distributed.tensor`` when no DTensor can exist.

    Since torch 2.10 every ``assert_close`` first checks whether its arguments are
    DTensors, importing ``torch.distributed.tensor`` to do so: half a second and
    some 70,000 objects (every later garbage collection pays for them) in each
    process, xdist workers included.  A DTensor cannot exist unless that module
    has been imported, so while it is absent the check is skipped, exactly; the
    switch is put back after each call.
    """
    comparison = sys.modules.get("torch.testing._comparison")
    if getattr(comparison, "_HAS_DTENSOR", None) is not True or "torch.distributed.tensor" in sys.modules:
        yield
        return
    comparison._HAS_DTENSOR = False
    try:
        yield
    finally:
        comparison._HAS_DTENSOR = True


def _call_repr(call: str | None) -> str:
    return f" [{call}]" if call else ""


def assert_close(
    actual: torch.Tensor,
    expected: torch.Tensor,
    *,
    kind: str | Tol,
    what: str,
    call: str | None = None,
    dtype: torch.dtype | None = None,
) -> None:
    """``torch.testing.assert_close`` with the tolerance of ``kind`` for this dtype and device.

    ``kind`` names a row of the tolerance table (or is a :class:`Tol`); ``dtype``
    defaults to the dtype of ``actual``.
    """
    tol = kind if isinstance(kind, Tol) else tolerance(kind, dtype or actual.dtype, runtime.device())
    with _no_dtensor_import():
        torch.testing.assert_close(
            actual,
            expected,
            atol=tol.atol,
            rtol=tol.rtol,
            equal_nan=False,
            msg=lambda m: f"{what}: {m}\n  tolerance {tol}{_call_repr(call)}",
        )


def as_tensor_result(value: Any, *, what: str, call: str | None = None) -> torch.Tensor:
    """``value`` if it is a tensor; otherwise a failure saying what was returned instead."""
    if not isinstance(value, torch.Tensor):
        raise AssertionError(
            f"{what}: returned {type(value).__name__} {describe(value)}, but should return a Tensor{_call_repr(call)}"
        )
    return value


def assert_equal(actual: Any, expected: Any, *, what: str, call: str | None = None) -> None:
    """Exact equality (tensors: same shape, dtype and values)."""
    if isinstance(actual, torch.Tensor) or isinstance(expected, torch.Tensor):
        with _no_dtensor_import():
            torch.testing.assert_close(actual, expected, atol=0, rtol=0, msg=lambda m: f"{what}: {m}{_call_repr(call)}")
        return
    assert actual == expected, f"{what}: got {actual!r}, but should be {expected!r}{_call_repr(call)}"


def assert_raises(
    exc_types: type[BaseException] | tuple[type[BaseException], ...],
    fn: Callable[..., Any],
    *args: Any,
    what: str,
    call: str | None = None,
    **kwargs: Any,
) -> BaseException:
    """``fn(*args, **kwargs)`` must raise one of ``exc_types``; returns the exception."""
    try:
        result = fn(*args, **kwargs)
    except exc_types as exc:
        return exc
    except Exception as exc:
        raise AssertionError(
            f"{what}: raised {type(exc).__name__}({exc}), but should raise {_names(exc_types)}{_call_repr(call)}"
        ) from exc
    raise AssertionError(f"{what}: returned {describe(result)}, but should raise {_names(exc_types)}{_call_repr(call)}")


def assert_rejects(
    fn: Callable[..., Any],
    *args: Any,
    feature: str | tuple[str, ...],
    what: str,
    call: str | None = None,
    **kwargs: Any,
) -> BaseException:
    """``fn(*args, **kwargs)`` must refuse a feature with a clear error: an exception whose message names
    the feature (any of the words in ``feature``, case-insensitive).  Returning, or raising about something
    else, fails."""
    words = (feature,) if isinstance(feature, str) else feature
    try:
        result = fn(*args, **kwargs)
    except Exception as exc:
        text = f"{type(exc).__name__}: {exc}"
        if any(word.lower() in text.lower() for word in words):
            return exc
        raise AssertionError(
            f"{what}: raised {text!r}, which does not name {' or '.join(words)}; a rejected feature needs a clear "
            f"error{_call_repr(call)}"
        ) from exc
    raise AssertionError(
        f"{what}: returned {describe(result)}, but the backend declares it rejected: it must raise an error naming "
        f"{' or '.join(words)}, not ignore it silently{_call_repr(call)}"
    )


def _names(exc_types: type[BaseException] | tuple[type[BaseException], ...]) -> str:
    if isinstance(exc_types, tuple):
        return " or ".join(t.__name__ for t in exc_types)
    return exc_types.__name__


def call_unmutated(fn: Callable[..., Any], *args: Any, what: str, call: str | None = None, **kwargs: Any) -> Any:
    """Call ``fn`` and fail if it changed any tensor argument in place (values, shape or dtype)."""
    tensors = [(i, a, a.detach().clone()) for i, a in enumerate(_flatten(args, kwargs)) if isinstance(a, torch.Tensor)]
    result = fn(*args, **kwargs)
    for i, arg, before in tensors:
        if not _identical(arg.detach(), before):
            raise AssertionError(f"{what}: mutated its input tensor #{i} ({describe(arg)}){_call_repr(call)}")
    return result


def _identical(a: torch.Tensor, b: torch.Tensor) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.is_floating_point() or a.is_complex():
        return bool(((a == b) | (a.isnan() & b.isnan())).all())
    return torch.equal(a, b)


def _flatten(args: Sequence[Any], kwargs: dict[str, Any]) -> list[Any]:
    out: list[Any] = []
    for value in [*args, *kwargs.values()]:
        if isinstance(value, (list, tuple)):
            out.extend(value)
        else:
            out.append(value)
    return out
