"""Every property can fail: the suite, run on the broken implementations in ``tests/broken``.

One in-process pytest session runs every property against every broken
implementation at once (each exposes only the names around its bug, so the rest
is skipped at collection).  Then both directions are checked:

* each broken implementation fails every property it lists in ``KILLED_BY``;
* each property of the suite fails for at least one broken implementation.
"""

from __future__ import annotations

import importlib
import re
from collections import defaultdict
from pathlib import Path

import pytest

from layer_conformance.plugin.records import record_of
from tests.inner import BROKEN, NAMES_ONLY, PROPERTIES


def _function_key(nodeid: str) -> str:
    """``<file>::<test function>`` of a node id (parameters dropped)."""
    path, _, name = nodeid.partition("::")
    function = re.sub(r"\[.*\]$", "", name)
    return f"{Path(path).name}::{function}"


@pytest.fixture(scope="module")
def outcomes(suite_run) -> dict[str, dict[str, set[str]]]:
    """impl name -> property key -> outcomes of its runs ('passed', 'failed', 'missing', ...), read from
    the records the reports carry."""
    result: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for report in suite_run.reports:
        record = record_of(report)
        if record is None or record["outcome"] is None:  # not a property's deciding report
            continue
        result[record["impl"]][_function_key(report.nodeid)].add(record["outcome"])
    return result


@pytest.mark.parametrize("name", BROKEN)
def test_broken_implementation_is_killed(outcomes, name):
    module = importlib.import_module(f"tests.broken.{name}")
    killed_by = getattr(module, "KILLED_BY", None)
    assert killed_by, f"tests/broken/{name}.py declares no KILLED_BY"
    seen = outcomes[f"tests.broken.{name}"]
    for key in killed_by:
        assert key in seen, f"{key} did not run for {name} (missing names? typo?); ran: {sorted(seen)}"
        assert "failed" in seen[key], f"{key} did not catch tests/broken/{name}.py ({module.__doc__.strip()})"


def test_names_only_implementation_passes_every_property(outcomes):
    seen = outcomes[NAMES_ONLY]
    assert set(seen) == all_properties(), f"did not run: {sorted(all_properties() - set(seen))}"
    bad = {key: o for key, o in seen.items() if o != {"passed"}}
    assert not bad, f"properties that do not pass on the contract names alone: {bad}"


def all_properties() -> set[str]:
    """``<file>::<test function>`` of every property module of the suite."""
    keys = set()
    for path in sorted(PROPERTIES.glob("test_*.py")):
        module = importlib.import_module(f"layer_conformance.properties.{path.stem}")
        keys.update(
            f"{path.name}::{name}" for name, obj in vars(module).items() if name.startswith("test_") and callable(obj)
        )
    return keys


def test_every_property_kills_a_broken_implementation(outcomes):
    properties = all_properties()
    killed = {key for per_impl in outcomes.values() for key, seen in per_impl.items() if "failed" in seen}
    assert len(properties) > 30, f"found only {len(properties)} properties"
    survivors = sorted(properties - killed)
    assert not survivors, f"properties that no broken implementation fails: {survivors}"
