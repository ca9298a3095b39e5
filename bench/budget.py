"""The wall-time budget: the whole suite now against the suite at another revision, on the same machine.

    python bench/budget.py --against REV [--repeat 5] [--output FILE]

Both suites run on the reference, default profile ``dev``, ``-n 2``, in fresh ``python -m pytest``
processes (interpreter and torch start-up included), alternating (REV first, then this checkout, per
repeat) under the same ``--hypothesis-seed`` so that a load spike on the machine hits both alike.  The
revision is exported with ``git archive`` into a temporary directory and run from there, its
``layer_conformance`` package put first on ``PYTHONPATH`` (as ``pyproject.toml`` maps it: ``conformance/``
with ``reference/`` and ``strategies/`` inside), so nothing is installed.  Reports the median and best
wall time of each and the ratio of the medians (the budget: at most 1.2).  Output is Markdown.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _suite import ROOT, run_suite

BUDGET = 1.2


def export(rev: str, into: Path) -> dict[str, str]:
    """``rev`` exported under ``into/tree`` and its package laid out under ``into/pkg``; the environment that
    runs it."""
    tree, pkg = into / "tree", into / "pkg" / "layer_conformance"
    tree.mkdir()
    pkg.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    for entry in (tree / "conformance").iterdir():
        (pkg / entry.name).symlink_to(entry)
    for name in ("reference", "strategies"):
        (pkg / name).symlink_to(tree / name)
    return {"PYTHONPATH": os.pathsep.join(filter(None, [str(pkg.parent), os.environ.get("PYTHONPATH", "")]))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", required=True, help="the git revision to compare with (e.g. main)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--output", type=Path, default=None, help="also write the Markdown here")
    args = parser.parse_args(argv)
    common = ["-q", "-n", "2", "--conformance-profile=dev"]
    before: list[float] = []
    after: list[float] = []
    summaries: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="lc-budget-") as tmp:
        env = export(args.against, Path(tmp))
        for seed in range(args.repeat):
            old = run_suite([*common, f"--hypothesis-seed={seed}"], env=env, root=Path(tmp) / "tree")
            new = run_suite([*common, f"--hypothesis-seed={seed}"])
            before.append(old.elapsed)
            after.append(new.elapsed)
            summaries = {"before": old.summary(), "after": new.summary()}
            print(
                f"seed {seed}: {args.against} {old.elapsed:.1f} s, now {new.elapsed:.1f} s", file=sys.stderr, flush=True
            )
    ratio = statistics.median(after) / statistics.median(before)
    rev = subprocess.run(["git", "rev-parse", "--short", args.against], cwd=ROOT, capture_output=True, text=True)
    lines = [
        f"Command: `python bench/budget.py --against {args.against}"
        + (f" --repeat {args.repeat}`" if args.repeat != 5 else "`"),
        f"Reference, profile `dev`, `-n 2`, {args.repeat} runs each, alternating, seeds 0..{args.repeat - 1}",
        "",
        "| suite | median wall time (s) | best (s) | result (last run) |",
        "|---|---|---|---|",
        f"| `{args.against}` ({rev.stdout.strip()}) | {statistics.median(before):.1f} | {min(before):.1f} | "
        f"{summaries['before']} |",
        f"| this checkout | {statistics.median(after):.1f} | {min(after):.1f} | {summaries['after']} |",
        f"| ratio (medians) | {ratio:.2f}x | {min(after) / min(before):.2f}x (best) | budget {BUDGET}x: "
        f"{'met' if ratio <= BUDGET else '**not met**'} |",
    ]
    text = "\n".join(lines)
    print(text)
    if args.output:
        args.output.write_text(text + "\n")
    return 0 if ratio <= BUDGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
