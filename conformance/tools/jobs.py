"""The sweep beyond one machine: a plan of jobs for a CI matrix, one slice of the sweep, and the merge.

::

    layer-conformance sweep --plan [TARGETS] [--shards N --times docs/sweep.json] [-- pytest args]
    layer-conformance sweep --job ID [TARGETS] [--shards N --times ...] --out DIR [-- pytest args]
    layer-conformance sweep --shard I/N [TARGETS] [--times ...] --out DIR [-- pytest args]
    layer-conformance sweep merge DIR... --out OUT [--markdown PATH] [--summary PATH] [--parity PATH]

* **The plan** is the sweep cut into independent jobs, printed as a JSON list a CI matrix reads as it is
  (``fromJSON`` in GitHub Actions, a ``parallel: matrix`` in GitLab CI): one job per target, or, with
  ``--shards N``, N jobs whose targets are balanced by the time each took in a recorded sweep
  (``--times``: a ``sweep.json``; targets it does not know count as its median).  Each job is an object:
  ``id`` (its name), ``targets`` (a list), ``args`` (the targets as the command line takes them),
  ``seconds`` (the recorded time it should take) and ``cache-key`` (what its environments depend on: the
  key of a CI cache of ``$LAYER_CONFORMANCE_ENVS``).
* **A job** runs exactly the targets of one job of the same plan -- the same targets, ``--shards`` and
  ``--times`` give the same plan on every machine -- into ``--out DIR`` (one directory per target, as the
  sweep writes them) and writes ``DIR/slice.json``: the job, the whole plan, the sweep's arguments, the
  suite (version and a fingerprint of its files), the environment (Python, torch), when it started and
  ended, and per target its run (times, versions, outcome counts).  The manifest is written when the job
  starts, so a job killed on the way leaves a slice that says so.  It exits 1 when a run of its own is not
  clean; the xfail ranges are checked by the merge, which sees every release.
* **The merge** checks the slices -- all from one sweep (same arguments, same suite, same plan), none
  missing, none twice -- and writes what one machine would have written: ``OUT/<target>/`` (copied),
  ``OUT/sweep.json``, ``OUT/matrix.md``, the changes between releases, the xfail-range check, and the
  ``--markdown`` / ``--summary`` / ``--parity`` pages.  Slices that do not fit together are refused with a
  one-line error naming them; a slice whose job died is merged, each target it did not finish reported as
  a run that did not happen (the sweep is then not clean).

This module imports no torch.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import re
import shutil
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from .history import Run

__all__ = ["MANIFEST", "PLAN_FORMAT", "SLICE_FORMAT", "Job", "JobError", "merge", "plan_jobs", "print_plan", "run_job"]

PLAN_FORMAT = "layer-conformance-plan/1"
SLICE_FORMAT = "layer-conformance-slice/1"
#: The manifest of a slice, in the job's output directory.
MANIFEST = "slice.json"

_SHARD = re.compile(r"^(\d+)/(\d+)$")


class JobError(Exception):
    """A plan, job or merge that cannot be done; the message is one line."""


@dataclass(frozen=True)
class Job:
    """One job of a plan: its name and its targets, in the sweep's order."""

    id: str
    targets: tuple[str, ...]
    seconds: float

    def as_dict(self, kind: str, environment: str) -> dict[str, Any]:
        args = " ".join(f"--impl {t}" for t in self.targets) if kind == "impl" else " ".join(self.targets)
        key = safe_label(f"{environment}-{'-'.join(self.targets)}")
        return {"id": self.id, "targets": list(self.targets), "args": args, "seconds": round(self.seconds, 1),
                "cache-key": key}  # fmt: skip


def safe_label(label: str) -> str:
    """A target's label as a directory name (the sweep's ``OUT/<label>/``)."""
    return re.sub(r"[^\w.+-]", "_", label)


def recorded_times(path: str | None) -> dict[str, float]:
    """Seconds per target label (environment and suite) from a recorded ``sweep.json``; empty without one."""
    if not path:
        return {}
    file = Path(path)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise JobError(f"--times {path}: cannot read: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise JobError(f"{path}:{exc.lineno}: not JSON: {exc.msg}") from None
    runs = data.get("runs") if isinstance(data, dict) else None
    if not isinstance(runs, list):
        raise JobError(f"{path}:1: not a sweep summary ('runs' expected)")
    times = {}
    for run in runs:
        if isinstance(run, dict) and "label" in run:
            times[str(run["label"])] = float(run.get("env_seconds") or 0) + float(run.get("suite_seconds") or 0)
    return times


def plan_jobs(targets: Sequence[str], shards: int | None, times: dict[str, float]) -> list[Job]:
    """One job per target, or ``shards`` jobs balanced by the recorded times (longest first to the least loaded
    job; a target without a recorded time counts as the median of those recorded, or 1 s)."""
    known = [times[t] for t in targets if t in times]
    default = statistics.median(known) if known else 1.0
    weight = {t: times.get(t, default) for t in targets}
    if not shards:
        return [Job(safe_label(t), (t,), weight[t]) for t in targets]
    if shards < 1:
        raise JobError(f"--shards {shards}: expected a number of jobs >= 1")
    asked, shards = shards, min(shards, len(targets)) or 1  # a job per target at most; the ids say how many asked
    loads = [0.0] * shards
    members: list[list[str]] = [[] for _ in range(shards)]
    for target in sorted(targets, key=lambda t: (-weight[t], targets.index(t))):
        lightest = min(range(shards), key=lambda i: (loads[i], i))
        loads[lightest] += weight[target]
        members[lightest].append(target)
    order = {t: i for i, t in enumerate(targets)}
    return [
        Job(f"shard-{i + 1}-of-{asked}", tuple(sorted(members[i], key=order.__getitem__)), loads[i])
        for i in range(shards)
    ]


def _targets(args: argparse.Namespace, published: Sequence[str]) -> tuple[list[str], str]:
    if args.impl:
        return list(args.impl), "impl"
    return list(args.releases) or list(published), "targets"


def _environment(args: argparse.Namespace) -> str:
    """What every environment of the sweep depends on: the Python and torch versions (``--python``, ``--torch``,
    else this environment's)."""
    python = args.python or f"{sys.version_info.major}.{sys.version_info.minor}"
    torch = args.torch or installed_version("torch") or "any"
    return f"py{python}-torch{torch.split('+')[0]}"


def installed_version(dist: str) -> str | None:
    """The version of an installed distribution, or None."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _shards(args: argparse.Namespace) -> int | None:
    if args.shard:
        match = _SHARD.match(args.shard)
        if match is None or not 1 <= int(match[1]) <= int(match[2]):
            raise JobError(f"--shard {args.shard}: expected I/N with 1 <= I <= N")
        if args.shards and args.shards != int(match[2]):
            raise JobError(f"--shard {args.shard} and --shards {args.shards} disagree")
        return int(match[2])
    return args.shards


def the_plan(args: argparse.Namespace, published: Sequence[str]) -> tuple[list[Job], str]:
    """The jobs of the sweep ``args`` describe (``published``: its targets when it names none)."""
    targets, kind = _targets(args, published)
    return plan_jobs(targets, _shards(args), recorded_times(args.times)), kind


def print_plan(args: argparse.Namespace, write: Callable[[str], None], published: Sequence[str]) -> int:
    """``--plan``: the jobs as one line of JSON (a CI matrix's input)."""
    jobs, kind = the_plan(args, published)
    write(json.dumps([job.as_dict(kind, _environment(args)) for job in jobs]))
    return 0


# --------------------------------------------------------------------------- a job


def suite_fingerprint() -> str:
    """A hash of the installed suite's files (its properties, contract, adapters and xfails): two slices run by
    different suites -- another version, another commit -- differ here."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".txt") and "__pycache__" not in path.parts:
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _sweep_identity(args: argparse.Namespace, pytest_args: Sequence[str]) -> dict[str, Any]:
    return {
        "releases": list(args.releases),
        "impl": list(args.impl),
        "pytest_args": list(pytest_args),
        "workers": args.workers,
        "shards": _shards(args),
    }


def run_job(
    args: argparse.Namespace,
    write: Callable[[str], None],
    published: Sequence[str],
    make_runner: Callable[[], Any],
) -> int:
    """``--job ID`` / ``--shard I/N``: the targets of one job, their reports in ``--out`` and the manifest.
    ``make_runner()`` gives the sweep's runner (:class:`layer_conformance.tools.sweep.Runner`: its targets, its
    output directory, ``runner(index)`` runs one), made once the job is known to be in the plan."""
    jobs, kind = the_plan(args, published)
    wanted = args.job or (f"shard-{args.shard.split('/')[0]}-of-{args.shard.split('/')[1]}" if args.shard else None)
    job = next((j for j in jobs if j.id == wanted), None)
    if job is None and args.shard and int(args.shard.split("/")[0]) > len(jobs):
        # a fixed number of CI jobs (GitLab's parallel: N) for fewer targets: this one has nothing to run
        write(f"layer-conformance sweep: job {wanted}: no targets (the plan has {len(jobs)} jobs); nothing to do")
        return 0
    if job is None:
        raise JobError(f"no job {wanted!r} in the plan (its jobs: {', '.join(j.id for j in jobs)})")
    runner = make_runner()
    runner.total = len(job.targets)
    out = runner.out
    out.mkdir(parents=True, exist_ok=True)
    manifest = {
        "format": SLICE_FORMAT,
        "job": job.id,
        "plan": [{"id": j.id, "targets": list(j.targets)} for j in jobs],
        "kind": kind,
        "sweep": _sweep_identity(args, runner.pytest_args),
        "suite": {"version": installed_version("layer-conformance"), "fingerprint": suite_fingerprint()},
        "python": ".".join(map(str, sys.version_info[:3])),
        "torch": installed_version("torch"),
        "host": os.environ.get("RUNNER_NAME") or os.environ.get("CI_RUNNER_DESCRIPTION") or "",
        "status": "running",
        "started": _now(),
        "ended": None,
        "runs": [],
    }
    _write_manifest(out, manifest)
    write(f"layer-conformance sweep: job {job.id} of {len(jobs)}: {len(job.targets)} targets -> {out}")
    runs = []
    for target in job.targets:
        index = runner.targets.index(target)
        result = runner(index)
        runs.append(result)
        manifest["runs"].append(_run_record(result, target))
        _write_manifest(out, manifest)
    manifest["status"], manifest["ended"] = "done", _now()
    _write_manifest(out, manifest)
    unclean = [r.label for r in runs if not r.clean]
    write(
        f"layer-conformance sweep: job {job.id}: {len(runs)} run, {len(runs) - len(unclean)} clean"
        + (f"; not clean: {', '.join(unclean)}" if unclean else "")
        + f"; {out / MANIFEST}"
    )
    return 1 if unclean else 0


def _run_record(run: Run, target: str) -> dict[str, Any]:
    return {
        "target": target,
        "label": run.label,
        "kind": run.kind,
        "error": run.error,
        "env_seconds": round(run.env_seconds, 1),
        "suite_seconds": round(run.suite_seconds, 1),
        "env": run.env_note,
        "env_bytes": run.env_bytes,
        "report": f"{safe_label(run.label)}/report.json" if run.report is not None else None,
        "counts": dict(run.counts()) if run.report is not None else {},
    }


def _write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    path = out / MANIFEST
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    partial.replace(path)


# --------------------------------------------------------------------------- the merge


def _merge_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="layer-conformance sweep merge",
        description="Merge the slices of a sweep (the output directories of its jobs) into the reports one "
        "machine would have written.",
    )
    parser.add_argument("slices", nargs="+", metavar="DIR", help="the output directory of each job (--out)")
    parser.add_argument("--out", default="layer-conformance-sweep", help="where the merged sweep goes")
    parser.add_argument("--markdown", default=None, metavar="PATH", help="also write the matrix to PATH")
    parser.add_argument("--summary", default=None, metavar="PATH", help="also write sweep.json to PATH")
    parser.add_argument("--parity", default=None, metavar="PATH", help="also write the parity page to PATH")
    parser.add_argument(
        "--update-xfails", default=None, metavar="FILE", help="write the ranges the sweep found into FILE"
    )
    return parser


def read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        raise JobError(
            f"{directory}: no {MANIFEST} (not the output of a sweep job, or its artifact is missing)"
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise JobError(f"{path}:{exc.lineno}: not JSON: {exc.msg}") from None
    keys = {"format", "job", "plan", "kind", "sweep", "suite", "status", "runs"}
    if not isinstance(data, dict) or data.get("format") != SLICE_FORMAT or not keys <= data.keys():
        raise JobError(f"{path}:1: not a sweep slice manifest (format {SLICE_FORMAT!r} with {', '.join(sorted(keys))})")
    return data


def _describe_difference(a: dict[str, Any], b: dict[str, Any]) -> str:
    for field, what in (("suite", "suite"), ("sweep", "arguments"), ("plan", "plan"), ("kind", "kind")):
        if a.get(field) != b.get(field):
            return f"another {what} ({json.dumps(a.get(field))} vs {json.dumps(b.get(field))})"
    return "?"


def check_slices(slices: list[tuple[Path, dict[str, Any]]]) -> None:
    """Refuse slices that are not the complete set of one sweep's jobs, naming the offending ones."""
    first_dir, first = slices[0]
    for directory, manifest in slices[1:]:
        for field in ("suite", "sweep", "plan", "kind"):
            if manifest.get(field) != first.get(field):
                raise JobError(
                    f"{directory} and {first_dir} are slices of different sweeps: {_describe_difference(manifest, first)}"
                )
    seen: dict[str, Path] = {}
    for directory, manifest in slices:
        if manifest["job"] in seen:
            raise JobError(
                f"{directory} and {seen[manifest['job']]} are the same job {manifest['job']!r}: merged once only"
            )
        seen[manifest["job"]] = directory
    planned = [job["id"] for job in first["plan"]]
    unknown = [j for j in seen if j not in planned]
    if unknown:
        raise JobError(f"{seen[unknown[0]]}: job {unknown[0]!r} is not in the plan ({', '.join(planned)})")
    absent = [j for j in planned if j not in seen]
    if absent:
        raise JobError(f"missing slices: {', '.join(absent)} (of {len(planned)} jobs); merged nothing")


def _load_runs(
    slices: list[tuple[Path, dict[str, Any]]], out: Path, published: Sequence[str], release: re.Pattern[str]
) -> list[Run]:
    """The runs of every target in the plan's order, their directories copied to ``out``."""
    from ..formats.report import ReportError, load_report

    by_target: dict[str, tuple[Path, dict[str, Any], dict[str, Any] | None]] = {}
    for directory, manifest in slices:
        records = {r["target"]: r for r in manifest["runs"] if isinstance(r, dict) and "target" in r}
        job = next(j for j in manifest["plan"] if j["id"] == manifest["job"])
        for target in job["targets"]:
            by_target[target] = (directory, manifest, records.get(target))
    targets = [t for job in slices[0][1]["plan"] for t in job["targets"]]
    sweep = slices[0][1]["sweep"]
    order = list(sweep["impl"]) or list(sweep["releases"]) or list(published)
    targets.sort(key=lambda t: order.index(t) if t in order else len(order))
    kind = slices[0][1]["kind"]
    runs = []
    for target in targets:
        directory, manifest, record = by_target[target]
        run_kind = (
            record["kind"]
            if record
            else "impl"
            if kind == "impl"
            else "release"
            if release.match(target)
            else "library"
        )
        run = Run(target, kind=run_kind)
        if record is None:
            state = "died" if manifest["status"] != "done" else "ended"
            run.error = (
                f"not run: the job {manifest['job']!r} {state} before this target finished "
                f"(started {manifest.get('started')}, no end recorded)"
                if state == "died"
                else f"not run: the job {manifest['job']!r} did not record it"
            )
            runs.append(run)
            continue
        run.env_seconds, run.suite_seconds = float(record["env_seconds"]), float(record["suite_seconds"])
        run.env_note, run.error = str(record.get("env") or ""), record.get("error")
        run.env_bytes = int(record.get("env_bytes") or 0)
        source = directory / safe_label(record["label"])
        if record.get("report"):
            shutil.copytree(source, out / safe_label(record["label"]), dirs_exist_ok=True)
            try:
                run.report = load_report(out / record["report"])
                run.report_path = record["report"]
            except ReportError as exc:
                run.error = str(exc)
        runs.append(run)
    return runs


def merge(
    argv: Sequence[str],
    write: Callable[[str], None],
    *,
    published: Sequence[str],
    release: re.Pattern[str],
    progress: Callable[[int, int, str, Run], str],
) -> tuple[list[Run], argparse.Namespace, list[str], Path]:
    """``sweep merge DIR...``: the slices checked and loaded, their directories copied to ``--out``; returns
    what the sweep concludes from (``layer_conformance.tools.sweep.conclude``): the runs in the sweep's order,
    its settings, its pytest arguments and the output directory."""
    args = _merge_parser().parse_args(list(argv))
    slices = [(Path(d), read_manifest(Path(d))) for d in args.slices]
    check_slices(slices)
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    first = slices[0][1]
    died = [f"{d} ({m['job']})" for d, m in slices if m["status"] != "done"]
    write(f"layer-conformance sweep merge: {len(slices)} slices of {len(first['plan'])} jobs -> {out}")
    if died:
        write(f"  slices whose job died: {', '.join(died)}")
    runs = _load_runs(slices, out, published, release)
    for index, run in enumerate(runs):
        what = "implementation" if run.kind == "impl" else "library" if run.kind == "library" else "transformers"
        write(progress(index, len(runs), what, run))
    sweep = first["sweep"]
    settings = argparse.Namespace(
        impl=sweep["impl"],
        releases=sweep["releases"],
        update_xfails=args.update_xfails,
        parity=args.parity,
        markdown=args.markdown,
        summary=args.summary,
    )
    return runs, settings, list(sweep["pytest_args"]), out
