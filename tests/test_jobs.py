"""The sweep as jobs of a CI matrix: the plan, one slice per job (each in a process of its own), the merge.

Four fake targets (``tests/impls/release_1.py`` to ``release_4.py``: implementations of this environment, nothing
is installed) are swept in one go and as four slices merged afterwards; the merged sweep.json and matrix must
equal the single run's, apart from timings.  Merging refuses slices that do not fit together, and a slice whose
job was killed shows in the merged report.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from layer_conformance.tools import cli, jobs

ROOT = Path(__file__).resolve().parent.parent
TARGETS = [f"tests.impls.release_{i}" for i in range(1, 5)]
IMPLS = [arg for t in TARGETS for arg in ("--impl", t)]
SELECTION = [
    "--",
    "-k",
    "test_accepts_non_contiguous_input or test_forward_equals_linear or test_forward_fn_called_once_per_chunk_in_order",
]


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "layer_conformance.tools.cli", *args]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("CI", None)
    env["PYTHONPATH"] = str(ROOT)
    return env


# --------------------------------------------------------------------------- the plan


def test_plan_is_one_job_per_target_or_shards_balanced_by_recorded_time():
    times = {"a": 10.0, "b": 40.0, "c": 30.0, "d": 20.0}
    per_target = jobs.plan_jobs(list(times), None, times)
    assert [(j.id, j.targets) for j in per_target] == [(t, (t,)) for t in times]
    two = jobs.plan_jobs(list(times), 2, times)
    # longest first onto the least loaded job: b | c, then d onto c's job, a onto b's; each job in sweep order
    assert [(j.id, j.targets, j.seconds) for j in two] == [
        ("shard-1-of-2", ("a", "b"), 50.0),
        ("shard-2-of-2", ("c", "d"), 50.0),
    ]
    # a target with no recorded time counts as the median of the recorded ones; more shards than targets: one each
    assert jobs.plan_jobs(["a", "new"], 1, {"a": 10.0})[0].seconds == 20.0
    assert [j.id for j in jobs.plan_jobs(["a", "b"], 5, {})] == ["shard-1-of-5", "shard-2-of-5"]


def test_plan_prints_a_matrix_a_ci_reads(tmp_path, capsys):
    recorded = tmp_path / "sweep.json"
    recorded.write_text(json.dumps({"runs": [{"label": "5.23.0", "env_seconds": 1, "suite_seconds": 30}]}))
    assert cli.main(["sweep", "--plan", "5.23.0", "5.24.0", "5.25.0", "--shards", "2", "--times", str(recorded)]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    plan = json.loads(line)
    assert [job["id"] for job in plan] == ["shard-1-of-2", "shard-2-of-2"]
    assert sorted(t for job in plan for t in job["targets"]) == ["5.23.0", "5.24.0", "5.25.0"]
    for job in plan:
        assert job["args"] == " ".join(job["targets"]) and set(job) == {"id", "targets", "args", "seconds", "cache-key"}
        assert re.fullmatch(r"[\w.+-]+", job["cache-key"])


def test_plan_errors_are_one_line(capsys):
    assert cli.main(["sweep", "--plan", "--shard", "1/2"]) == 2
    assert cli.main(["sweep", "--shard", "3/2", "--out", "x"]) == 2
    assert cli.main(["sweep", "--job", "nope", "5.24.0", "--out", "x"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3 and all(line.startswith("layer-conformance sweep: ") for line in lines), lines
    assert "no job 'nope' in the plan (its jobs: 5.24.0)" in lines[2]


# --------------------------------------------------------------------------- one run and four slices


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """The four targets swept in one go (this process) and as four jobs, each in a process of its own."""
    base = tmp_path_factory.mktemp("jobs")
    single = base / "single"
    code = cli.main(["sweep", *IMPLS, "--out", str(single), "-n", "0", *SELECTION])
    slices = []
    for target in TARGETS:
        out = base / f"slice-{target}"
        done = subprocess.run(
            _cli("sweep", *IMPLS, "--job", target, "--out", str(out), "-n", "0", *SELECTION),
            cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert done.returncode in (0, 1), done.stderr
        slices.append(out)
    return base, single, code, slices


def _without_timings(data):
    """sweep.json with what differs between machines and moments left out: when, how long, which environment."""
    data = json.loads(json.dumps(data))
    data.pop("created", None)
    for run in data["runs"]:
        for key in ("env_seconds", "suite_seconds", "env"):
            run.pop(key, None)
    return data


def _matrix_without_timings(text: str) -> str:
    text = re.sub(r"\d+(\.\d+)? s\b", "T s", text)
    return re.sub(r"(?m)^(Generated|Created).*$", "", text)


def test_merged_slices_equal_the_single_run(swept, tmp_path, capsys):
    base, single, code, slices = swept
    merged = tmp_path / "merged"
    capsys.readouterr()
    assert cli.main(["sweep", "merge", *map(str, reversed(slices)), "--out", str(merged)]) == code == 1
    printed = capsys.readouterr().out
    assert "test_chunking.py::test_forward_fn_called_once_per_chunk_in_order" in printed
    one = json.loads((single / "sweep.json").read_text())
    both = json.loads((merged / "sweep.json").read_text())
    assert _without_timings(both) == _without_timings(one)
    assert [r["label"] for r in both["runs"]] == TARGETS  # the sweep's order, whatever the order of the slices
    assert _matrix_without_timings((merged / "matrix.md").read_text()) == _matrix_without_timings(
        (single / "matrix.md").read_text()
    )
    for target in TARGETS:  # the reports are where one machine puts them
        assert (merged / target / "report.json").exists() and (merged / target / "pytest.log").exists()
    manifest = json.loads((slices[0] / jobs.MANIFEST).read_text())
    assert manifest["status"] == "done" and manifest["job"] == TARGETS[0] and manifest["ended"]
    assert [job["id"] for job in manifest["plan"]] == TARGETS
    assert manifest["runs"][0]["counts"] == {"passed": 1, "missing": 1, "failed": 1}


def _copy(slices, tmp_path):
    copies = []
    for path in slices:
        copy = tmp_path / path.name
        shutil.copytree(path, copy)
        copies.append(copy)
    return copies


def _merge_error(capsys, *dirs, out) -> str:
    capsys.readouterr()
    assert cli.main(["sweep", "merge", *map(str, dirs), "--out", str(out)]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("layer-conformance sweep merge: ")
    return line


def test_merge_refuses_missing_duplicate_and_mismatched_slices(swept, tmp_path, capsys):
    _, _, _, slices = swept
    copies = _copy(slices, tmp_path)
    out = tmp_path / "out"
    assert "missing slices: tests.impls.release_4 (of 4 jobs)" in _merge_error(capsys, *copies[:3], out=out)
    assert "are the same job 'tests.impls.release_1'" in _merge_error(capsys, *copies, copies[0], out=out)

    manifest = json.loads((copies[1] / jobs.MANIFEST).read_text())
    manifest["sweep"]["pytest_args"] += ["--conformance-profile", "dev"]  # another profile
    (copies[1] / jobs.MANIFEST).write_text(json.dumps(manifest))
    line = _merge_error(capsys, *copies, out=out)
    assert f"{copies[1]} and {copies[0]} are slices of different sweeps: another arguments" in line

    manifest["sweep"]["pytest_args"] = manifest["sweep"]["pytest_args"][:-2]
    manifest["suite"]["fingerprint"] = "0" * 16  # another suite
    (copies[1] / jobs.MANIFEST).write_text(json.dumps(manifest))
    assert "different sweeps: another suite" in _merge_error(capsys, *copies, out=out)

    (copies[2] / jobs.MANIFEST).write_text('{"format": "layer-conformance-slice/1",\n "job": }')
    assert f"{copies[2] / jobs.MANIFEST}:2: not JSON" in _merge_error(capsys, *copies, out=out)
    assert "no slice.json" in _merge_error(capsys, tmp_path / "nowhere", out=out)


def test_a_killed_job_shows_in_the_merged_report(swept, tmp_path, capsys):
    """Two shards; the first job is killed (SIGKILL) once it has finished its first target: the merge names the
    dead slice, keeps the target it finished and reports the other as not run, and the sweep is not clean."""
    _, _, _, _ = swept
    shard = ["--shards", "2"]
    outs = [tmp_path / "s1", tmp_path / "s2"]
    second = subprocess.run(
        _cli("sweep", *IMPLS, *shard, "--job", "shard-2-of-2", "--out", str(outs[1]), "-n", "0", *SELECTION),
        cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert second.returncode in (0, 1), second.stderr
    first = subprocess.Popen(
        _cli("sweep", *IMPLS, *shard, "--job", "shard-1-of-2", "--out", str(outs[0]), "-n", "0", *SELECTION),
        cwd=ROOT, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    manifest_path = outs[0] / jobs.MANIFEST
    while time.monotonic() < deadline:
        try:
            if len(json.loads(manifest_path.read_text())["runs"]) >= 1:
                break
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.2)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    manifest = json.loads(manifest_path.read_text())
    assert manifest["status"] == "running" and len(manifest["runs"]) == 1
    finished = manifest["runs"][0]["target"]
    (unfinished,) = [t for t in next(j for j in manifest["plan"] if j["id"] == "shard-1-of-2")["targets"]
                     if t != finished]  # fmt: skip
    merged = tmp_path / "merged"
    capsys.readouterr()
    assert cli.main(["sweep", "merge", *map(str, outs), "--out", str(merged)]) == 1
    printed = capsys.readouterr().out
    assert f"slices whose job died: {outs[0]} (shard-1-of-2)" in printed
    data = json.loads((merged / "sweep.json").read_text())
    runs = {r["label"]: r for r in data["runs"]}
    assert runs[finished]["report"] and runs[unfinished]["report"] is None
    assert runs[unfinished]["error"].startswith("not run: the job 'shard-1-of-2' died before this target finished")
    assert "not clean: " in printed and unfinished in printed.splitlines()[-1]
