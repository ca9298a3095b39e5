"""Replaying a failing example outside pytest: what the report's ``repro_<n>.py`` scripts run.

An example (format ``layer-conformance-example/1``, :mod:`layer_conformance.formats.example`)
names the property (module and function), the implementation spec, the device,
the property's arguments and, for properties that draw from ``st.data()``, the
values drawn, all as plain data.  :func:`main` rebuilds them, imports the
implementation, runs the property's body once inside the per-example guard
(:func:`layer_conformance.support.state.example_guard`) and prints the
mismatch.  Exit status: 1 reproduced, 0 did not reproduce, 2 the example could
not be replayed.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import traceback
from typing import Any

from ..formats.example import EXAMPLE_FORMAT, DecodeError, decode
from ..impls import ImplError, load_implementation
from ..support.state import example_guard

__all__ = ["ReplayData", "main", "prepare", "replay"]


class ReplayData:
    """Stands in for ``st.data()``: hands back the recorded draws in order."""

    def __init__(self, draws: list[Any]) -> None:
        self._draws = list(draws)
        self._next = 0

    def draw(self, strategy: Any, label: Any = None) -> Any:
        if self._next >= len(self._draws):
            raise RuntimeError(f"the property drew more values than the example recorded ({len(self._draws)})")
        value = self._draws[self._next]
        self._next += 1
        return value


def _inner(fn: Any) -> Any:
    inner = fn.hypothesis.inner_test if hasattr(fn, "hypothesis") else fn
    while getattr(inner, "_layer_conformance_guarded", False):
        inner = inner.__wrapped__
    return inner


def prepare(example: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The property's body and its keyword arguments, rebuilt from the example."""
    from .. import runtime

    impl = load_implementation(example["impl"])
    runtime.set_device(example.get("device", "cpu"))
    module = importlib.import_module(example["module"])
    fn = _inner(getattr(module, example["function"]))
    kwargs = {k: decode(v) for k, v in example["arguments"].items()}
    kwargs["impl"] = impl
    if example.get("data"):
        draws = example.get("draws")
        kwargs["data"] = None if draws is None else ReplayData([decode(v) for v in draws])
    return fn, kwargs


def replay(example: dict[str, Any]) -> None:
    """Run the example's property once; raises what the property raises."""
    fn, kwargs = prepare(example)
    with example_guard(kwargs["impl"]):
        fn(**kwargs)


def _example_line(script: str | None) -> int:
    if not script:
        return 0
    try:
        with open(script, encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                if line.startswith("EXAMPLE = "):
                    return number
    except OSError:
        pass
    return 0


def main(text: str, script: str | None = None) -> int:
    where = script or "<example>"
    try:
        example = json.loads(text)
    except json.JSONDecodeError as exc:
        # line 1 of the JSON text is the rest of the `EXAMPLE = r"""` line
        print(f"{where}:{_example_line(script) + exc.lineno - 1}: malformed example: {exc.msg}", file=sys.stderr)
        return 2
    if not isinstance(example, dict) or example.get("format") != EXAMPLE_FORMAT:
        print(f"{where}:{_example_line(script)}: not a {EXAMPLE_FORMAT} example", file=sys.stderr)
        return 2
    if not example.get("replayable", False):
        print(f"{where}: this example holds values that are not plain data; it cannot be replayed", file=sys.stderr)
        return 2
    sys.path.insert(0, os.getcwd())  # like `python -m pytest`: implementations importable from here
    label = f"{example.get('module')}.{example.get('function')} on {example.get('impl')}"
    try:
        fn, kwargs = prepare(example)
    except (ImplError, DecodeError, KeyError, TypeError, ImportError, AttributeError, RuntimeError) as exc:
        print(f"{where}: cannot replay {label}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    module = sys.modules[fn.__module__]
    saved_note = getattr(module, "note", None)
    if saved_note is not None:  # hypothesis.note only works inside a Hypothesis test
        module.note = lambda text: print(f"note: {text}")
    try:
        with example_guard(kwargs["impl"]):
            fn(**kwargs)
    except Exception as exc:  # the property failed: that is the reproduction
        traceback.print_exc()
        print(f"\nreproduced: {label}\n{type(exc).__name__}: {exc}")
        return 1
    except BaseException as exc:  # pytest.skip and friends
        if type(exc).__name__ in ("Skipped", "Failed", "XFailed"):
            print(f"{where}: {label} {type(exc).__name__.lower()}: {exc}")
            return 1 if type(exc).__name__ == "Failed" else 0
        raise
    finally:
        if saved_note is not None:
            module.note = saved_note
    print(f"did not reproduce: {label} passed")
    return 0
