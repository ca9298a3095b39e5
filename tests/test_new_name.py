"""Adding a contract name by the checklist of :mod:`layer_conformance.contract`, and by nothing else.

The checklist says which five places a new name touches.  Here two fake names -- ``scale_rows``, a
function, and ``FAKE_FUNCTIONS``, a mapping of functions -- are added to a copy of the package by
exactly those edits (a record, the reference, the properties, the surface declarations, a broken
implementation), and the whole suite runs on the copy: if a sixth place were needed, something below
would not pick the names up.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# --------------------------------------------------------------------------- the checklist's five edits

RECORDS = """\
        Api(
            "scale_rows",
            "fake",
            "``scale_rows(x, factor)``: every entry of ``x`` times ``factor``.",
            {"4": None, "5": None},
        ),
        Api(
            "FAKE_FUNCTIONS",
            "fake",
            "Mapping ``name -> fn(value)``; ``double`` returns twice its value.",
            {"4": None, "5": None},
            kind="mapping",
        ),
"""

REFERENCE = '''\
"""The fake names of tests/test_new_name.py."""


def scale_rows(x, factor):
    return x * factor


def _double(value):
    return 2 * value


FAKE_FUNCTIONS = {"double": _double}
'''

PROPERTIES = '''\
"""Properties of the fake names of tests/test_new_name.py."""

import torch
from hypothesis import given
from hypothesis import strategies as st

from layer_conformance.support.checks import assert_equal, requires


@requires("scale_rows")
@given(rows=st.integers(1, 4), cols=st.integers(1, 4), factor=st.integers(-3, 3))
def test_scale_rows_multiplies_every_entry(impl, rows, cols, factor):
    """``scale_rows(x, factor)`` is every entry of ``x`` times ``factor``."""
    x = torch.arange(rows * cols, dtype=torch.float64).reshape(rows, cols) - 2
    assert_equal(impl.scale_rows(x, factor), x * factor, what="scale_rows")


@requires("FAKE_FUNCTIONS")
@given(value=st.integers(-5, 5))
def test_double_returns_twice_its_value(impl, value):
    """``FAKE_FUNCTIONS['double'](value)`` is twice ``value``."""
    assert_equal(impl.FAKE_FUNCTIONS["double"](value), 2 * value, what="double")


@requires("FAKE_FUNCTIONS")
@given(key=st.sampled_from(["a", "b", "c"]))
def test_an_entry_added_by_one_example_is_gone_in_the_next(impl, key):
    """The guard restores a mapping's entries after every example: each example sees ``double`` alone."""
    assert_equal(sorted(impl.FAKE_FUNCTIONS), ["double"], what="entries at the start of an example")
    impl.FAKE_FUNCTIONS[key] = abs
'''

COVERED = """\
    "scale_rows(x)": ("test_fake.py::test_scale_rows_multiplies_every_entry",),
    "scale_rows(factor)": ("test_fake.py::test_scale_rows_multiplies_every_entry",),
    "FAKE_FUNCTIONS['double']": ("test_fake.py::test_double_returns_twice_its_value",),
    "FAKE_FUNCTIONS[*](value)": ("test_fake.py::test_double_returns_twice_its_value",),
"""

BROKEN = '''\
"""scale_rows multiplies by the factor's absolute value; FAKE_FUNCTIONS is missing."""


def scale_rows(x, factor):
    return x * abs(factor)


KILLED_BY = ["test_fake.py::test_scale_rows_multiplies_every_entry"]
'''


def _insert(path: Path, anchor: str, text: str, *, after: bool = False) -> None:
    """Put ``text`` before (or after) the one occurrence of ``anchor`` in ``path``."""
    source = path.read_text(encoding="utf-8")
    assert source.count(anchor) == 1, f"{path.name}: the anchor {anchor!r} moved; follow the checklist anew"
    source = source.replace(anchor, anchor + text if after else text + anchor)
    path.write_text(source, encoding="utf-8")


@pytest.fixture(scope="module")
def added(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the package laid out as installed, with the two names added by the checklist."""
    base = tmp_path_factory.mktemp("new-name")
    package = base / "pkg" / "layer_conformance"
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "conformance", package, ignore=ignore)
    for name in ("reference", "strategies"):
        shutil.copytree(ROOT / name, package / name, ignore=ignore)
    # 1. the record
    _insert(package / "contract.py", "    ]\n}\n\n#: Every public name, in contract order.", RECORDS)
    # 2. the reference
    (package / "reference" / "fake.py").write_text(REFERENCE)
    _insert(package / "reference" / "__init__.py", "\n__all__ = [", "from .fake import FAKE_FUNCTIONS, scale_rows\n")
    _insert(
        package / "reference" / "__init__.py", "__all__ = [\n", '    "FAKE_FUNCTIONS",\n    "scale_rows",\n', after=True
    )
    # 3. the properties
    (package / "properties" / "test_fake.py").write_text(PROPERTIES)
    # 4. the surface
    _insert(package / "surface.py", "COVERED: dict[str, tuple[str, ...]] = {\n", COVERED, after=True)
    # 5. a broken implementation
    (base / "broken_scale.py").write_text(BROKEN)
    return base


def _run(base: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "CI")}
    environment["PYTHONPATH"] = os.pathsep.join([str(base / "pkg"), str(base), str(ROOT)])
    environment.update(env or {})
    command = [sys.executable, "-m", "pytest", "--pyargs", "layer_conformance", "-p", "no:cacheprovider", *args]
    return subprocess.run(command, cwd=base, env=environment, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def run(added: Path) -> tuple[subprocess.CompletedProcess[str], dict]:
    """The whole suite on the copy, on the reference and the broken implementation, with a report."""
    done = _run(
        added,
        "--impl=reference",
        "--impl=broken_scale",
        "-n",
        "2",
        "--conformance-profile=selftest",
        f"--conformance-report={added / 'report'}",
    )
    report = added / "report" / "report.json"
    assert report.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    return done, json.loads(report.read_text())


def test_the_copy_is_what_runs(run, added):
    """The suite ran from the copy (not the installed package), and the contract there has the names."""
    done, report = run
    origins = {i["name"]: i["origin"] for i in report["implementations"]}
    assert origins["reference"].startswith(str(added / "pkg")), origins


def test_the_suite_runs_the_new_properties_on_every_implementation(run):
    done, report = run
    outcomes = {(r["impl"], r["key"]): r for r in report["results"]}
    for key in (
        "test_fake.py::test_scale_rows_multiplies_every_entry",
        "test_fake.py::test_double_returns_twice_its_value",
        "test_fake.py::test_an_entry_added_by_one_example_is_gone_in_the_next",
    ):
        assert outcomes[("reference", key)]["outcome"] == "passed", outcomes[("reference", key)]
    # the guard restored the mapping after every example: the property saw `double` alone each time
    assert (
        outcomes[("reference", "test_fake.py::test_an_entry_added_by_one_example_is_gone_in_the_next")]["examples"] > 1
    )
    summary = report["summary"]["reference"]
    assert set(summary) == {"passed"}, summary
    assert done.returncode == 1  # the broken implementation fails


def test_the_broken_implementation_is_killed_with_a_repro(run, added):
    done, report = run
    result = next(
        r
        for r in report["results"]
        if r["impl"] == "broken_scale" and r["key"] == "test_fake.py::test_scale_rows_multiplies_every_entry"
    )
    assert result["outcome"] == "failed" and result["apis"] == ["scale_rows"], result
    assert result["repro"], result
    replay = subprocess.run(
        [sys.executable, str(added / "report" / result["repro"])],
        cwd=added,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(added / "pkg"), str(added)])},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert replay.returncode == 1, replay.stdout + replay.stderr
    fake = "layer_conformance.properties" + ".test_fake"  # a module of the copy only
    assert f"reproduced: {fake}.test_scale_rows_multiplies_every_entry" in replay.stdout


def test_a_missing_name_is_reported_missing(run):
    done, report = run
    broken = next(i for i in report["implementations"] if i["name"] == "broken_scale")
    assert "FAKE_FUNCTIONS" in broken["missing"] and "scale_rows" not in broken["missing"]
    result = next(
        r
        for r in report["results"]
        if r["impl"] == "broken_scale" and r["key"] == "test_fake.py::test_double_returns_twice_its_value"
    )
    assert result["outcome"] == "missing" and result["apis"] == ["FAKE_FUNCTIONS"], result
    assert result["reason"] == "missing: FAKE_FUNCTIONS in broken_scale"


def test_the_matrix_and_the_reports_file_the_names(run, added):
    done, report = run
    assert set(report["matrix"]["reference"]["scale_rows"].values()) == {"passed"}
    assert set(report["matrix"]["reference"]["FAKE_FUNCTIONS"].values()) == {"passed"}
    assert report["matrix"]["broken_scale"]["scale_rows"]["test_fake.py::test_scale_rows_multiplies_every_entry"] == (
        "failed"
    )
    assert any(line.startswith("scale_rows ") and "reference: 1 passed" in line for line in done.stdout.splitlines())
    assert "| scale_rows |" in (added / "report" / "report.md").read_text()


def test_the_surface_check_lists_and_covers_their_surface(run):
    """The function's parameters, the mapping's keys and its entries' parameters are surface (from the record's
    kind), and the declarations cover them: the reference's uncovered surface stays empty."""
    done, report = run
    surface = report["surface"]["reference"]
    for item in ("scale_rows(x)", "scale_rows(factor)", "FAKE_FUNCTIONS['double']", "FAKE_FUNCTIONS['double'](value)"):
        assert item in surface["items"], item
    assert surface["uncovered"] == [], surface["uncovered"]
    assert surface["covered"] == len(surface["items"])


def test_the_self_tests_implementations_expose_them(added, tmp_path):
    """The implementation exposing the contract names only, and the spy, have them with nothing added: the spy
    records what the new properties exercise, as the surface declarations say."""
    spied = tmp_path / "spied.tsv"
    spied.touch()
    done = _run(
        added,
        "-k",
        "test_fake",
        "--impl=tests.impls.names_only",
        "--impl=tests.impls.spy",
        "--conformance-profile=selftest",
        env={"LAYER_CONFORMANCE_SPY": str(spied)},
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "6 passed" in done.stdout, done.stdout[-2000:]
    lines = set(spied.read_text().splitlines())
    assert "test_fake.py::test_scale_rows_multiplies_every_entry\tscale_rows(x)" in lines, lines
    assert "test_fake.py::test_scale_rows_multiplies_every_entry\tscale_rows(factor)" in lines
    assert "test_fake.py::test_double_returns_twice_its_value\tFAKE_FUNCTIONS['double'](value)" in lines


def test_without_a_surface_declaration_the_surface_is_uncovered(added, tmp_path):
    """Step 4 is needed: a copy without the declarations reports the new parameters as uncovered surface."""
    copy = tmp_path / "copy"
    shutil.copytree(added, copy, ignore=shutil.ignore_patterns("__pycache__", "report"))
    surface = copy / "pkg" / "layer_conformance" / "surface.py"
    surface.write_text(surface.read_text().replace(COVERED, ""))
    done = _run(copy, "-k", "test_fake", "--impl=reference", "--conformance-profile=selftest")
    # the entry's parameter is not listed apart: the uncovered entry stands for it
    found = re.search(r"reference: (\d+) items, (\d+) exercised; uncovered \(3\):", done.stdout)
    assert found, done.stdout[-2000:]
    # four new items (two parameters, the entry and its parameter), none exercised; the rest as before
    assert int(found[1]) - int(found[2]) == 4, found[0]
    assert "  FAKE_FUNCTIONS['double']\n  scale_rows(factor)\n  scale_rows(x)\n" in done.stdout
