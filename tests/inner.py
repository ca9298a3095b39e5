"""Running the conformance suite inside a self-test: one in-process pytest session, its reports.

:func:`run_suite` is what ``tests/test_kills.py`` and ``tests/test_surface.py`` share: the session
fixture ``suite_run`` (``tests/conftest.py``) runs every property once on the implementation exposing
the contract names only, the spy (``tests/impls/spy.py``) and every broken implementation.
:func:`run_installed` runs the installed suite in a pytest of its own (another library's adapter, a
seeded bug: what an in-process session cannot unload).
"""

from __future__ import annotations

import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import tests.broken

CONFORMANCE = Path(__file__).resolve().parent.parent / "conformance"
#: The property modules (``layer_conformance.properties``).
PROPERTIES = CONFORMANCE / "properties"
#: A correct implementation exposing the contract names only (no hooks): it must pass everything.
NAMES_ONLY = "tests.impls.names_only"
#: The reference behind a spy recording the surface each property exercises.
SPY = "tests.impls.spy"
#: The attention backends of the run: the default ones, and the key the broken kernels register
#: (tests/broken/_kernel.py).
BACKENDS = ("eager", "sdpa", "kernel")
BROKEN = sorted(m.name for m in pkgutil.iter_modules(tests.broken.__path__) if not m.name.startswith("_"))


class _Reports:
    """A plugin object collecting the inner session's test reports."""

    def __init__(self) -> None:
        self.reports: list[pytest.TestReport] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.reports.append(report)


def run_suite(*args: str) -> list[pytest.TestReport]:
    """Run the conformance suite in-process with extra arguments; return its test reports.

    The repository root goes on the ``pythonpath`` of every xdist worker so that they can import
    ``tests.broken`` and ``tests.impls``."""
    collector = _Reports()
    root = str(CONFORMANCE.parent)
    pytest.main(
        [str(CONFORMANCE), "-p", "no:cacheprovider", "-p", "no:benchmark", "-q", "--no-header"]
        + ["-o", f"pythonpath={root}", *args],
        plugins=[collector],
    )
    return collector.reports


def run_installed(
    cwd: Path, out: Path, *args: str, paths: tuple[Path, ...] = (), env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """The installed suite (``--pyargs layer_conformance``) in a pytest of its own, run from ``cwd`` with
    ``paths`` and the repository root before ``PYTHONPATH`` and ``env`` set; its output, and the report it
    wrote to ``out`` (which it must have written)."""
    path = os.pathsep.join(filter(None, [*map(str, paths), str(CONFORMANCE.parent), os.environ.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "pytest", "--pyargs", "layer_conformance", "-p", "no:cacheprovider"]
    command += [f"--conformance-report={out}", *args]
    full_env = {**os.environ, **(env or {}), "PYTHONPATH": path}
    done = subprocess.run(command, cwd=cwd, env=full_env, capture_output=True, text=True)
    assert (out / "report.json").exists(), done.stdout[-3000:] + done.stderr[-3000:]
    return done, json.loads((out / "report.json").read_text())
