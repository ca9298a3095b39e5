"""Benchmark the suite: wall time serial and with ``-n 2``, per module, and examples per property.

    python bench/run_bench.py [--impl SPEC] [--profile NAME] [--repeat N] [--output FILE]
                              [--against CHECKOUT [--against-python PYTHON]]

Speed is measured here, never in a timed test.  Each configuration runs the
suite in a fresh ``python -m pytest`` process (interpreter and torch start-up
included, as a user sees it); the best of ``--repeat`` runs is reported, the
configurations taken in turns.  ``--against`` adds another checkout of the suite
(an earlier commit, with its own environment) to the same turns: serial and
``-n 2`` wall times of both, measured under the same conditions.  The
per-module and per-property figures (outcome, examples run, call time) come from
the ``report.json`` of the best serial run.  Output is Markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from _suite import ROOT, Run, interleaved

SPIN = "import time\nt = time.perf_counter()\ns = 0\nfor i in range(15_000_000):\n    s += i\nprint(time.perf_counter() - t)"


def parallel_ceiling(repeat: int) -> tuple[float, float, float]:
    """(one process alone, each of two at once, the speed-up two processes can give at most).

    A pure-Python loop, run alone and then in two processes at once: on a machine whose two
    cores share a physical core or its caches, two processes do less than twice the work of
    one, and no test runner can beat that ratio.
    """

    def spin(n: int) -> float:
        procs = [subprocess.Popen([sys.executable, "-c", SPIN], stdout=subprocess.PIPE, text=True) for _ in range(n)]
        return max(float(proc.communicate()[0]) for proc in procs)

    alone = min(spin(1) for _ in range(repeat))
    together = min(spin(2) for _ in range(repeat))
    return alone, together, 2 * alone / together


def startup(repeat: int, common: list[str]) -> float:
    """Wall time of collecting the suite (``--co``): interpreter, pytest, torch, Hypothesis, the plugin."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "pytest", "conformance", "-p", "no:cacheprovider", "-q", "--co", *common],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        times.append(time.perf_counter() - start)
    return min(times)


def per_module(run: Run) -> dict[str, float]:
    """Test time per property module (sum of the call durations of its results)."""
    seconds: dict[str, float] = defaultdict(float)
    for r in run.results:
        seconds[r["key"].split("::")[0]] += r["duration"]
    return seconds


FIRST_FAILURE_SCRIPT = r"""
import importlib, json, os, pkgutil, sys, time
import pytest
sys.path.insert(0, ".")
import tests.broken

class Clock:
    def __init__(self):
        self.rows = []
    def pytest_runtest_logreport(self, report):
        if report.when == "call":
            self.rows.append((report.nodeid, report.outcome, report.duration))

results = {}
for m in sorted(m.name for m in pkgutil.iter_modules(tests.broken.__path__) if not m.name.startswith("_")):
    module = importlib.import_module(f"tests.broken.{m}")
    files = sorted({k.split("::")[0] for k in module.KILLED_BY})
    clock = Clock()
    args = [f"conformance/properties/{f}" for f in files] + [f"--impl=tests.broken.{m}", "--deselect-missing", "-x",
            "-q", "-p", "no:cacheprovider", "--no-header",
            "--conformance-profile", os.environ["HYPOTHESIS_PROFILE_FOR_BENCH"]]
    pytest.main(args, plugins=[clock])
    elapsed = 0.0
    first = None
    for nodeid, outcome, duration in clock.rows:
        elapsed += duration
        if outcome == "failed":
            first = (nodeid.split("::")[1].split("[")[0], elapsed)
            break
    results[m] = first
print(json.dumps(results))
"""


def first_failures(profile: str | None) -> dict[str, object]:
    """Per broken implementation: the first property that fails and the test time until it does.

    Under the ``ci`` profile unless ``profile`` is given: derandomized and without an example
    database, so that the times do not depend on failures replayed from earlier runs (a fresh
    checkout has none) and are the same on every run."""
    args = [sys.executable, "-c", FIRST_FAILURE_SCRIPT]
    env = dict(os.environ)
    env["HYPOTHESIS_PROFILE_FOR_BENCH"] = profile or "ci"
    proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, env=env)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise SystemExit(proc.stdout[-2000:] + proc.stderr[-2000:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--impl", action="append", default=[])
    parser.add_argument("--profile", default=None, help="Hypothesis profile (default: the plugin's default)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--output", type=Path, default=None, help="also write the Markdown here")
    parser.add_argument("--against", type=Path, default=None, help="another checkout of the suite to measure alike")
    parser.add_argument("--against-python", default=None, help="its interpreter (default: CHECKOUT/.venv/bin/python)")
    parser.add_argument(
        "--first-failures", action="store_true", help="also time each broken implementation's first failure"
    )
    args = parser.parse_args(argv)
    common = [f"--impl={i}" for i in args.impl] + ([f"--conformance-profile={args.profile}"] if args.profile else [])

    lines: list[str] = []
    emit = lines.append
    import torch

    emit(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores; Python {sys.version.split()[0]}; torch {torch.__version__}"
    )
    emit(f"Command: `python bench/run_bench.py {' '.join(argv if argv is not None else sys.argv[1:])}`".rstrip())
    emit(f"Implementations: {', '.join(args.impl) or 'reference (default)'}; profile: {args.profile or 'default'}")
    emit("")
    configurations = {"serial": dict(args=["-q", *common]), "`-n 2`": dict(args=["-q", "-n", "2", *common])}
    if args.against:
        other = dict(root=args.against, python=args.against_python or str(args.against / ".venv" / "bin" / "python"))
        configurations["serial, against"] = dict(args=["-q", *common], **other)
        configurations["`-n 2`, against"] = dict(args=["-q", "-n", "2", *common], **other)
    runs = interleaved(args.repeat, configurations)
    serial, parallel = runs["serial"], runs["`-n 2`"]
    emit(f"| run | wall time (s), best of {args.repeat} | result (report.json) |")
    emit("|---|---|---|")
    for name, run in runs.items():
        where = f" ({args.against.name})" if "against" in name else ""
        emit(f"| {name.replace(', against', '')}{where} | {run.elapsed:.1f} | {run.summary()} |")
    emit(f"| speed-up | {serial.elapsed / parallel.elapsed:.2f}x | |")
    if args.against:
        before = runs["`-n 2`, against"]
        emit(f"| speed-up ({args.against.name}) | {runs['serial, against'].elapsed / before.elapsed:.2f}x | |")
        emit(f"| `-n 2` wall time, this checkout / {args.against.name} | {parallel.elapsed / before.elapsed:.2f} | |")
    emit("")
    alone, together, ceiling = parallel_ceiling(args.repeat)
    emit("What bounds the speed-up on this machine (best of the same repeats):")
    emit("")
    emit("| measure | value |")
    emit("|---|---|")
    emit(
        f"| start-up per process (`pytest --co`: Python, pytest, torch, Hypothesis, plugin) | {startup(args.repeat, common):.2f} s |"
    )
    emit(f"| pure-Python loop, one process alone | {alone:.2f} s |")
    emit(f"| the same loop, each of two processes at once | {together:.2f} s |")
    emit(f"| speed-up two processes can give at most (2 x alone / together) | {ceiling:.2f}x |")
    emit("")

    modules = per_module(serial)
    emit("| module | test time (s), serial |")
    emit("|---|---|")
    for module, seconds in sorted(modules.items(), key=lambda kv: -kv[1]):
        emit(f"| {module} | {seconds:.2f} |")
    emit(f"| total (tests only, no start-up) | {sum(modules.values()):.2f} |")
    emit("")

    emit("| property | implementation | outcome | examples | time (s) | examples/s |")
    emit("|---|---|---|---|---|---|")
    for r in sorted(serial.results, key=lambda r: (r["key"], r["impl"])):
        examples = r["examples"] or 0
        rate = f"{examples / r['duration']:.0f}" if r["duration"] and examples else "-"
        emit(f"| {r['key']} | {r['impl']} | {r['outcome']} | {examples} | {r['duration']:.2f} | {rate} |")
    if args.first_failures:
        ff = first_failures(args.profile)
        emit("")
        emit("Time from a module's start to the first failure, per broken implementation in `tests/broken`")
        emit("(sum of the test durations of its modules, in order, up to the first failing property, shrinking")
        emit(f"included; `-x`; profile `{args.profile or 'ci'}`: derandomized, no example database):")
        emit("")
        emit("| broken implementation | first failing property | seconds |")
        emit("|---|---|---|")
        for name, first in ff.items():
            if first is None:
                emit(f"| {name} | (none) | - |")
            else:
                emit(f"| {name} | {first[0]} | {first[1]:.2f} |")
        times = [f[1] for f in ff.values() if f]
        emit(f"| **max** | | **{max(times):.2f}** |")
    text = "\n".join(lines)
    print(text)
    if args.output:
        args.output.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
