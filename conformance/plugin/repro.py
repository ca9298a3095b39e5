"""Replaying a failing example outside pytest: what the report's ``repro_<n>.py`` scripts run.

An example (format ``layer-conformance-example/1``) names the property (module
and function), the implementation spec, the device, the property's arguments
and, for properties that draw from ``st.data()``, the values drawn, all as plain
data (:mod:`layer_conformance.plugin.serialize`).  :func:`main` rebuilds them, imports
the implementation, runs the property's body once inside the per-example guard
and prints the mismatch.  Exit status: 1 reproduced, 0 did not reproduce, 2 the
example could not be replayed.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

from ..impls import ImplError, load_implementation

__all__ = ["EXAMPLE_FORMAT", "REPRO_TEMPLATE", "ReplayData", "make_example", "main", "replay", "write_scripts"]

EXAMPLE_FORMAT = "layer-conformance-example/1"


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


def make_example(
    *, module: str, function: str, impl: str, device: str, failure: dict[str, Any], message: str
) -> dict[str, Any]:
    """The plain-data example of a failure recorded by the guard."""
    from .serialize import encode, replayable

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


def _inner(fn: Any) -> Any:
    inner = fn.hypothesis.inner_test if hasattr(fn, "hypothesis") else fn
    while getattr(inner, "_layer_conformance_guarded", False):
        inner = inner.__wrapped__
    return inner


def prepare(example: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The property's body and its keyword arguments, rebuilt from the example."""
    from ..support import runtime
    from .serialize import decode

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
    from .guard import example_guard

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
    from .guard import example_guard
    from .serialize import DecodeError

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


REPRO_TEMPLATE = '''#!/usr/bin/env python
"""Reproduces a failure of layer-conformance.

Property: {key}
Implementation: {impl} (version {version}); device {device}
Failure: {message}

Needs layer-conformance and the implementation installed; run from where the
implementation imports (`python {name}`).  The example below is plain data:
tensors are embedded as lists of values, nothing is unpickled.  Exit status 1
means the failure reproduced, 0 that it did not.
"""

import sys

from layer_conformance.plugin.repro import main

EXAMPLE = r"""
{example}
"""

if __name__ == "__main__":
    sys.exit(main(EXAMPLE, __file__))
'''


def write_scripts(directory: Path, results: list[Any], versions: dict[str, str | None], *, device: str) -> None:
    """One ``repro_<n>.py`` per failed result with a replayable example; sets each result's ``repro``.
    Scripts of an earlier report in ``directory`` are removed first."""
    for old in directory.glob("repro_*.py"):
        old.unlink()
    n = 0
    for r in sorted(results, key=lambda r: (r.impl, r.key)):
        if r.outcome not in ("failed", "error") or not r.example or not r.example.get("replayable"):
            continue
        n += 1
        name = f"repro_{n}.py"
        (directory / name).write_text(
            REPRO_TEMPLATE.format(
                key=r.key,
                impl=r.impl,
                version=versions.get(r.impl) or "?",
                device=device,
                message=(r.message or "").replace('"""', "'''")[:300],
                name=name,
                example=json.dumps(r.example, indent=1, sort_keys=True),
            )
        )
        r.repro = name
