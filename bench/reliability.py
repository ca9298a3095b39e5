"""No false failures: run the suite under many Hypothesis seeds and count the outcomes.

    python bench/reliability.py --seeds 20 [--run PYTHON:IMPL ...] [-k EXPR] [--output FILE]

Each ``--run`` names an interpreter (with the suite and the implementation
installed) and an ``--impl`` value; the default is this interpreter on the
reference.  For every seed the whole suite runs in the default profile with
``--hypothesis-seed SEED -n 2``; the script prints, per run, how many seeds
passed cleanly and the properties that failed under any seed.  A property that
fails for the reference or for a transformers version (beyond its recorded
expected failures) under some seed is a false failure to fix; an expected
failure that passes under some seed (``stale``) is a recorded bug the
property does not find under every seed.  ``-k EXPR`` runs only the
properties it selects (pytest's ``-k``), e.g. the ones a new xfail line names.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from _suite import run_suite


def run_once(python: str, impl: str, seed: int, select: str | None = None) -> tuple[str, list[str], float]:
    """(summary, failing properties, wall time) of one run, read from its report.json."""
    args = ["-q", "-n", "2", f"--impl={impl}", f"--hypothesis-seed={seed}"] + (["-k", select] if select else [])
    run = run_suite(args, python=python)
    failed = sorted({f"{r['key']} ({r['outcome']})" for r in run.bad()})
    return run.summary(), failed, run.elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--run", action="append", default=[], metavar="PYTHON:IMPL")
    parser.add_argument("-k", dest="select", default=None, help="only the properties this pytest -k selects")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    runs = [r.rsplit(":", 1) for r in args.run] or [[sys.executable, "reference"]]
    selected = f", `-k {args.select!r}`" if args.select else ""
    lines = [f"{args.seeds} seeds (0..{args.seeds - 1}), default profile, `-n 2`{selected}", ""]
    lines += [
        "| interpreter | implementation | seeds passing cleanly | summaries | failures (property: seeds) | time per run (s) |"
    ]
    lines += ["|---|---|---|---|---|---|"]
    for python, impl in runs:
        summaries: Counter[str] = Counter()
        failures: dict[str, list[int]] = {}
        clean, total = 0, 0.0
        for seed in range(args.seeds):
            summary, failed, elapsed = run_once(python, impl, seed, args.select)
            total += elapsed
            summaries[summary] += 1
            clean += not failed
            for f in failed:
                failures.setdefault(f, []).append(seed)
            print(f"{impl} seed {seed}: {summary}", file=sys.stderr, flush=True)
        described = "; ".join(f"`{k}`: {v}" for k, v in failures.items()) or "none"
        kinds = "; ".join(f"{n}x {s}" for s, n in summaries.items())
        lines.append(
            f"| `{python}` | {impl} | {clean}/{args.seeds} | {kinds} | {described} | {total / args.seeds:.1f} |"
        )
    text = "\n".join(lines)
    print(text)
    if args.output:
        args.output.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
