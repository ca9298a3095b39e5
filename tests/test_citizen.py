"""The plugin as a good pytest citizen: inert in other projects' runs, results that survive xdist
workers and crashes (``crashed`` outcome, the gate counts it), observations equal serially and under
xdist.  These run pytest in subprocesses, as a user's environment would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONV1D = str(ROOT / "conformance" / "properties" / "test_conv1d.py")
CHECKPOINTING = str(ROOT / "conformance" / "properties" / "test_checkpointing.py")

FOREIGN = """
import gc, sys
from hypothesis import given, settings, strategies as st

ORDER = []

def test_z_first():
    ORDER.append("z")

def test_a_second():
    ORDER.append("a")
    assert ORDER == ["z", "a"]

def test_default_profile():
    assert settings.default.max_examples == 100
    assert settings.default.deadline is not None

def test_no_torch_and_no_frozen_gc():
    assert "torch" not in sys.modules
    assert gc.get_freeze_count() == 0

@given(st.integers())
def test_hypothesis_runs(x):
    pass
"""


def _pytest(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("CI", "LAYER_CONFORMANCE_IMPL")}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=environment,
        timeout=600,
    )


@pytest.mark.parametrize("extra", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_a_foreign_project_sees_nothing_of_the_suite(tmp_path, extra):
    (tmp_path / "test_foreign.py").write_text(FOREIGN)
    (tmp_path / "conftest.py").write_text('def pytest_addoption(parser):\n    parser.addoption("--device")\n')
    done = _pytest(*extra, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "5 passed" in done.stdout
    assert "layer-conformance:" not in done.stdout  # no header line, no summary section


def test_a_project_with_its_own_device_option_can_still_run_the_suite(tmp_path):
    (tmp_path / "conftest.py").write_text('def pytest_addoption(parser):\n    parser.addoption("--device")\n')
    done = _pytest(CONV1D, "--conformance-profile", "selftest", "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "7 passed" in done.stdout


def test_the_suite_profile_applies_to_its_properties_only(tmp_path):
    (tmp_path / "test_foreign.py").write_text(
        "from hypothesis import settings\n\ndef test_default():\n    assert settings.default.max_examples == 100\n"
    )
    done = _pytest(CONV1D, "test_foreign.py", "--conformance-report", str(tmp_path / "r"), cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["hypothesis"]["profile"] == "dev" and report["hypothesis"]["max_examples"] == 40
    assert {r["outcome"] for r in report["results"]} == {"passed"} and len(report["results"]) == 7
    assert all(r["examples"] >= 1 for r in report["results"])


def test_observations_are_the_same_serially_and_under_xdist(tmp_path):
    observed = []
    for extra in ([], ["-n", "2"]):
        out = tmp_path / f"r{len(observed)}"
        done = _pytest(
            CHECKPOINTING, "--conformance-profile", "selftest", f"--conformance-report={out}", *extra, cwd=ROOT
        )
        assert done.returncode == 0, done.stdout[-3000:]
        observed.append(json.loads((out / "report.json").read_text())["observed"])
    assert observed[0] and observed[0] == observed[1]


def test_a_crash_is_a_result_and_a_regression(tmp_path):
    base, now = tmp_path / "base", tmp_path / "now"
    ok = _pytest(CONV1D, "--conformance-profile", "selftest", f"--conformance-report={base}", cwd=ROOT)
    assert ok.returncode == 0, ok.stdout[-3000:]
    done = _pytest(
        CONV1D,
        "-n",
        "2",
        "--conformance-profile",
        "selftest",
        "--impl",
        "tests.impls.conv1d_aborts",
        f"--conformance-report={now}",
        f"--baseline={base / 'report.json'}",
        "-o",
        f"pythonpath={ROOT}",
        cwd=ROOT,
    )
    assert done.returncode == 1, done.stdout[-3000:]
    report = json.loads((now / "report.json").read_text())
    crashed = [r for r in report["results"] if r["outcome"] == "crashed"]
    assert [r["key"] for r in crashed] == ["test_conv1d.py::test_accepts_non_contiguous_input"]
    assert "crashed" in crashed[0]["message"]
    assert report["summary"]["tests.impls.conv1d_aborts"] == {"passed": 6, "crashed": 1}
    matrix = report["matrix"]["tests.impls.conv1d_aborts"]["Conv1D"]
    assert matrix["test_conv1d.py::test_accepts_non_contiguous_input"] == "crashed"
    assert "| Conv1D | 6 passed, 1 crashed |" in (now / "report.md").read_text()
    assert [e["key"] for e in report["baseline"]["regressions"]] == [crashed[0]["key"]]
    assert "Conv1D  tests.impls.conv1d_aborts: 6 passed, 1 crashed" in done.stdout
    assert "regressions: 1" in done.stdout


def test_a_bad_impl_is_a_one_line_usage_error_under_xdist_too(tmp_path):
    done = _pytest(CONV1D, "-n", "2", "--impl", "tests.impls.names_only:Nope", "-o", f"pythonpath={ROOT}", cwd=ROOT)
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout[-2000:] + done.stderr[-2000:]
    assert "ERROR: --impl tests.impls.names_only:Nope: 'tests.impls.names_only' has no attribute 'Nope'" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
