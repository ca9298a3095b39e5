"""Running the conformance suite inside a self-test: one in-process pytest session, its reports.

:func:`run_suite` is what ``tests/test_kills.py`` and ``tests/test_surface.py`` share: the session
fixture ``suite_run`` (``tests/conftest.py``) runs every property once on the implementation exposing
the contract names only, the spy (``tests/impls/spy.py``) and every broken implementation.
"""

from __future__ import annotations

import pkgutil
from pathlib import Path

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
