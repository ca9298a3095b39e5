"""The per-example guard: global state is restored after every example.

The plugin wraps every property so that each Hypothesis example (and each plain
test call) runs inside :func:`example_guard`.  Before the example it records
torch's default dtype, grad mode, RNG states and the global entries of the
implementation's registries, and seeds torch's global RNG with a fixed value so
that code drawing from it (layer initialisation) replays.  Afterwards it puts
everything back.  The registries are restored silently (properties register
test functions on purpose); a changed default dtype or grad mode is restored
*and* reported as a failure of that example, since it can only come from the
implementation under test.
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

from ..support.state import registry_snapshots, restore_snapshots

__all__ = [
    "ExampleTimeout",
    "GlobalStateLeak",
    "RecordingData",
    "example_guard",
    "guarded",
    "pop_examples",
    "pop_failure",
    "record_failure",
]

#: Seed of torch's global RNG at the start of every example.
EXAMPLE_SEED = 0


class GlobalStateLeak(AssertionError):
    """The example left torch's global state changed."""


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


@contextlib.contextmanager
def example_guard(impl: Any = None) -> Iterator[None]:
    """Run one example with torch's global state saved, seeded, and restored."""
    dtype = torch.get_default_dtype()
    grad = torch.is_grad_enabled()
    cpu_rng = torch.random.get_rng_state()
    cuda_rng = torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else None
    registries = registry_snapshots(impl)
    # not torch.manual_seed: it queues lazy seeding of every accelerator backend and
    # formats a stack trace for each, which costs milliseconds per example
    torch.random.default_generator.manual_seed(EXAMPLE_SEED)
    if cuda_rng is not None:
        torch.cuda.manual_seed_all(EXAMPLE_SEED)
    leaked: list[str] = []
    try:
        yield
    finally:
        if torch.get_default_dtype() != dtype:
            leaked.append(f"default dtype {torch.get_default_dtype()} (was {dtype})")
            torch.set_default_dtype(dtype)
        if torch.is_grad_enabled() != grad:
            leaked.append(f"grad mode {torch.is_grad_enabled()} (was {grad})")
            torch.set_grad_enabled(grad)
        torch.random.set_rng_state(cpu_rng)
        if cuda_rng is not None:
            torch.cuda.set_rng_state_all(cuda_rng)
        restore_snapshots(registries)
    if leaked:
        raise GlobalStateLeak("the example left global state changed: " + "; ".join(leaked))


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


#: The last failing example of the running test: (arguments, values drawn from st.data()).
_LAST_FAILURE: dict[str, Any] | None = None


def record_failure(arguments: dict[str, Any], draws: list[Any] | None = None, data: bool = False) -> None:
    """Keep the arguments of a failing call (plain tests; Hypothesis examples are kept by :func:`guarded`)."""
    global _LAST_FAILURE
    _LAST_FAILURE = {"arguments": {k: _snapshot(v) for k, v in arguments.items()}, "draws": draws, "data": data}


#: Examples run (calls of a guarded function) since the last :func:`pop_examples`.
_EXAMPLES = 0


def pop_examples() -> int:
    """How many examples ran since the previous call (Hypothesis' generation and shrinking both count)."""
    global _EXAMPLES
    count, _EXAMPLES = _EXAMPLES, 0
    return count


def pop_failure() -> dict[str, Any] | None:
    """The arguments and draws of the last failing example since the previous call, raw."""
    global _LAST_FAILURE
    failure, _LAST_FAILURE = _LAST_FAILURE, None
    return failure


def guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a test function (or a Hypothesis inner test) in :func:`example_guard`, and keep the
    arguments of a failing example (for the report's repro scripts)."""
    if getattr(fn, "_layer_conformance_guarded", False):
        return fn

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        global _LAST_FAILURE, _EXAMPLES
        _EXAMPLES += 1
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
        except BaseException as exc:
            if isinstance(exc, ExampleTimeout):
                _HUNG.setdefault(hang_key, str(exc).split(" (an earlier")[0])
            if isinstance(exc, Exception) or type(exc).__name__ == "Failed":
                draws = kwargs["data"].draws if isinstance(kwargs.get("data"), RecordingData) else None
                _LAST_FAILURE = {"arguments": arguments, "draws": draws, "data": drawing}
            raise

    wrapper._layer_conformance_guarded = True  # type: ignore[attr-defined]
    return wrapper


class GuardHooks:
    """Puts every example of the suite's properties inside :func:`example_guard` (where they run)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout

    @pytest.hookimpl(trylast=True)  # after selection planned the properties
    def pytest_collection_modifyitems(self, items: list[Any]) -> None:
        from .records import PLAN

        for item in items:
            if PLAN not in item.stash:
                continue
            handle = getattr(getattr(item, "obj", None), "hypothesis", None)
            if handle is not None:
                handle.inner_test = guarded(handle.inner_test)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: Any) -> Any:
        global EXAMPLE_TIMEOUT
        from .records import PLAN

        if PLAN not in item.stash:
            return (yield)
        saved, EXAMPLE_TIMEOUT = EXAMPLE_TIMEOUT, self.timeout
        try:
            return (yield)
        finally:
            EXAMPLE_TIMEOUT = saved

    @pytest.hookimpl(wrapper=True)
    def pytest_pyfunc_call(self, pyfuncitem: Any) -> Any:
        from .records import PLAN

        if PLAN not in pyfuncitem.stash or getattr(pyfuncitem.obj, "hypothesis", None) is not None:
            return (yield)  # not a property, or guarded per example through inner_test
        global _EXAMPLES
        _EXAMPLES += 1
        with example_guard(pyfuncitem.funcargs.get("impl")):
            try:
                return (yield)
            except Exception:
                record_failure({k: v for k, v in pyfuncitem.funcargs.items() if k in pyfuncitem.fixturenames})
                raise
