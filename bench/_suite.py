"""Running the suite from the benchmark scripts and reading what it reports.

Every script in ``bench/`` that runs the suite goes through :func:`run_suite`:
a fresh ``python -m pytest`` process (interpreter and torch start-up included,
as a user sees it) that writes ``report.json`` (``--conformance-report``), which
is loaded with the suite's own reader.  Outcomes, examples and durations come
from the report, never from the terminal output.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

#: Outcomes that make a run unclean (for the reliability and detection counts).
BAD = ("failed", "error", "crashed", "stale")


@dataclass
class Run:
    """One run of the suite: wall time, exit code and the report it wrote."""

    elapsed: float
    returncode: int
    report: dict[str, Any]
    output: str

    @property
    def results(self) -> list[dict[str, Any]]:
        return self.report["results"]

    def counts(self) -> Counter[str]:
        return Counter(r["outcome"] for r in self.results)

    def summary(self) -> str:
        """``155 passed, 3 xfailed`` from the report's results."""
        counts = self.counts()
        return ", ".join(f"{n} {outcome}" for outcome, n in counts.most_common()) or "no results"

    def bad(self) -> list[dict[str, Any]]:
        return [r for r in self.results if r["outcome"] in BAD]


def run_suite(
    args: list[str],
    *,
    python: str = sys.executable,
    targets: tuple[str, ...] = ("conformance",),
    env: dict[str, str] | None = None,
    check: bool = True,
    root: Path = ROOT,
) -> Run:
    """Run ``python -m pytest TARGETS ARGS --conformance-report=TMP`` from the repository root (or from
    another checkout, ``root``, with the ``python`` of its own environment).

    With ``check``, an exit code other than 0 (all passed) or 1 (some failed) stops the script
    with the tail of the output (a usage error, an internal error, no tests)."""
    from layer_conformance.formats.report import load_report

    with tempfile.TemporaryDirectory(prefix="lc-bench-") as tmp:
        command = [python, "-m", "pytest", *targets, "-p", "no:cacheprovider", f"--conformance-report={tmp}", *args]
        start = time.perf_counter()
        proc = subprocess.run(command, cwd=root, capture_output=True, text=True, env={**os.environ, **(env or {})})
        elapsed = time.perf_counter() - start
        output = proc.stdout + proc.stderr
        if check and proc.returncode not in (0, 1):
            sys.stderr.write(output[-4000:])
            raise SystemExit(f"pytest exited {proc.returncode}: {' '.join(command)}")
        report_path = Path(tmp) / "report.json"
        if not report_path.exists():
            sys.stderr.write(output[-4000:])
            raise SystemExit(f"no report written: {' '.join(command)}")
        report = load_report(report_path)
    return Run(elapsed, proc.returncode, report, output)


def best_of(n: int, args: list[str], **kwargs: Any) -> Run:
    """The fastest of ``n`` runs."""
    return min((run_suite(args, **kwargs) for _ in range(n)), key=lambda r: r.elapsed)


def interleaved(n: int, configurations: dict[str, dict[str, Any]]) -> dict[str, Run]:
    """The fastest of ``n`` runs of each configuration (``run_suite`` keyword arguments), taken in turns --
    A, B, A, B, ... -- so that a slower stretch of the machine weighs on every configuration alike."""
    best: dict[str, Run] = {}
    for _ in range(n):
        for name, kwargs in configurations.items():
            run = run_suite(**kwargs)
            if name not in best or run.elapsed < best[name].elapsed:
                best[name] = run
    return best
