"""The per-example guard: every example of a property runs inside :func:`~layer_conformance.support.state.example_guard`.

The plugin wraps every property so that each Hypothesis example (and each plain
test call) runs inside ``example_guard``: torch's default dtype, grad mode, RNG
states and the global entries of the implementation's registries are saved,
torch's RNG is seeded, and everything is put back afterwards.  The registries
are restored silently (properties register test functions on purpose); a
changed default dtype or grad mode is restored *and* reported as a failure of
that example, since it can only come from the implementation under test.

Around that, the guard stops an example that hangs (``--example-timeout``),
counts the examples, keeps the arguments and draws of a failing one, and
discards an example the implementation has no counterpart for
(:func:`layer_conformance.missing.unsupported`: Hypothesis' ``reject``); all of
it goes through the per-test channel (:mod:`layer_conformance.channel`) into
the test's record.
"""

from __future__ import annotations

import contextlib
import functools
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import torch

from .. import channel
from ..missing import Missing, Unsupported
from ..support.state import example_guard
from .plan import PLAN
from .profiles import key_examples, without_local_constants

__all__ = ["ExampleTimeout", "GuardHooks", "RecordingData", "guarded", "record_failure", "time_limit"]


class ExampleTimeout(Exception):
    """An example ran past the per-example time limit (an implementation that hangs)."""


#: Seconds one example may run (``--example-timeout``; 0 disables).  Enforced with SIGALRM, so only on
#: Unix and in the main thread (pytest-xdist workers run tests there too).
EXAMPLE_TIMEOUT = 60.0

#: Tests (by function) whose implementation already hung once: later examples of the same test fail at
#: once, so that Hypothesis' shrinking does not wait out the limit again and again.
_HUNG: dict[Any, str] = {}


def _timeout(message: str) -> None:
    # one raise site for every timeout, so Hypothesis sees one bug, not a flaky test
    raise ExampleTimeout(message)


@contextlib.contextmanager
def time_limit(seconds: float, what: str) -> Iterator[None]:
    """Raise :class:`ExampleTimeout` in the running code after ``seconds`` (no-op where SIGALRM is unusable)."""
    usable = seconds > 0 and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        _timeout(f"{what} ran longer than {seconds:g} s: the implementation hangs (--example-timeout)")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _snapshot(value: Any) -> Any:
    """A copy of the tensors in ``value`` (the test may change them before it fails)."""
    if isinstance(value, torch.Tensor):
        return value.detach().clone().requires_grad_(value.requires_grad)
    if isinstance(value, list):
        return [_snapshot(v) for v in value]
    if isinstance(value, tuple) and type(value) is tuple:
        return tuple(_snapshot(v) for v in value)
    if isinstance(value, dict):
        return {k: _snapshot(v) for k, v in value.items()}
    return value


class RecordingData:
    """Stands in for Hypothesis' ``st.data()`` object and keeps a copy of every value drawn."""

    def __init__(self, data: Any) -> None:
        self._data = data
        self.draws: list[Any] = []

    def draw(self, strategy: Any, label: Any = None) -> Any:
        value = self._data.draw(strategy, label=label)
        self.draws.append(_snapshot(value))
        return value

    def __repr__(self) -> str:
        return repr(self._data)


def record_failure(arguments: dict[str, Any], draws: list[Any] | None = None, data: bool = False) -> None:
    """Keep the arguments of a failing call (plain tests; Hypothesis examples are kept by :func:`guarded`)."""
    channel.keep_failure({"arguments": {k: _snapshot(v) for k, v in arguments.items()}, "draws": draws, "data": data})


def guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a test function (or a Hypothesis inner test) in :func:`example_guard`, and keep the
    arguments of a failing example (for the report's repro scripts)."""
    if getattr(fn, "_layer_conformance_guarded", False):
        return fn

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        channel.count_example()
        # Hypothesis' data object (an explicit example may pass a plain value instead: it is an argument)
        drawing = hasattr(kwargs.get("data"), "draw")
        arguments = {k: _snapshot(v) for k, v in kwargs.items() if k != "data" or not drawing}
        if drawing:
            kwargs["data"] = RecordingData(kwargs["data"])
        hang_key = (fn, getattr(kwargs.get("impl"), "name", None))
        try:
            if hang_key in _HUNG:
                _timeout(_HUNG[hang_key] + " (an earlier example of this test; not run again)")
            with example_guard(kwargs.get("impl")), time_limit(EXAMPLE_TIMEOUT, "the example"):
                return fn(*args, **kwargs)
        except Unsupported as exc:  # an input the implementation has no counterpart for: discard the example
            channel.discard(f"{exc.item} ({exc.why})" if exc.why else exc.item)
            from hypothesis import reject

            reject()
        except BaseException as exc:
            if isinstance(exc, ExampleTimeout):
                _HUNG.setdefault(hang_key, str(exc).split(" (an earlier")[0])
            if isinstance(exc, Exception) or type(exc).__name__ == "Failed":
                draws = kwargs["data"].draws if isinstance(kwargs.get("data"), RecordingData) else None
                channel.keep_failure({"arguments": arguments, "draws": draws, "data": drawing})
            raise

    wrapper._layer_conformance_guarded = True  # type: ignore[attr-defined]
    return wrapper


class GuardHooks:
    """Puts every example of the suite's properties inside :func:`example_guard` (where they run)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout

    @pytest.hookimpl(trylast=True)  # after selection planned the properties
    def pytest_collection_modifyitems(self, items: list[Any]) -> None:
        for item in items:
            if PLAN not in item.stash:
                continue
            handle = getattr(getattr(item, "obj", None), "hypothesis", None)
            if handle is not None:
                handle.inner_test = guarded(handle.inner_test)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: Any) -> Any:
        global EXAMPLE_TIMEOUT
        if PLAN not in item.stash:
            return (yield)
        saved, EXAMPLE_TIMEOUT = EXAMPLE_TIMEOUT, self.timeout
        try:
            with without_local_constants():
                return (yield)
        finally:
            EXAMPLE_TIMEOUT = saved

    @pytest.hookimpl(wrapper=True)
    def pytest_pyfunc_call(self, pyfuncitem: Any) -> Any:
        plan = pyfuncitem.stash.get(PLAN, None)
        if plan is None:
            return (yield)  # not a property
        handle = getattr(pyfuncitem.obj, "hypothesis", None)
        if handle is not None:  # guarded per example through inner_test; after Hypothesis keyed it by node id
            key_examples(handle.inner_test, plan.key)
            return (yield)
        channel.count_example()
        with example_guard(pyfuncitem.funcargs.get("impl")):
            try:
                return (yield)
            except Unsupported as exc:  # its one example needs what the implementation lacks
                raise Missing(exc.item, exc.impl_name, exc.why) from None
            except Exception:
                record_failure({k: v for k, v in pyfuncitem.funcargs.items() if k in pyfuncitem.fixturenames})
                raise
