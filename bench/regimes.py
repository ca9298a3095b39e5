"""Regimes reached under random seeds: does every property reach every regime it declares, in every run?

    python bench/regimes.py [--seeds 20] [--first-seed 0] [--impl SPEC] [--profile dev] [--output FILE]

Each strategy of the suite declares the regimes of the input space it must reach (its boundary
classes: decode and prefill, left, right and inner padding, a window of one key, grouped heads in
decode, ...) and labels every draw (:mod:`layer_conformance.strategies.regimes`); ``report.json`` carries,
per result, the regimes its strategies declared and those its examples reached.  This script runs the
whole suite (``-n 2``, the default profile ``dev``: 40 random examples per property) under ``--seeds``
Hypothesis seeds, reads the reports (``bench/_suite.py``) and prints, per property, how many regimes
it declares, how many it reached in every run and, for the others, the share of runs that reached
them.  The goal: every declared regime, in every run.  A first run with the explicit examples only
(nothing drawn: the Hypothesis profile ``explicit-only`` of ``tests/_explicit_only.py``) shows which
regimes a property reaches whatever the seed: the column "by explicit examples".  Output is Markdown.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

from _suite import run_suite


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--impl", action="append", default=[], help="--impl values (default: the reference)")
    parser.add_argument("--profile", default="dev", help="the suite's Hypothesis profile (default: dev, the default)")
    parser.add_argument("--output", type=Path, default=None, help="also write the Markdown here")
    args = parser.parse_args(argv)
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    declared: dict[tuple[str, str], set[str]] = defaultdict(set)
    reached: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    runs: dict[tuple[str, str], int] = defaultdict(int)
    bad: dict[tuple[str, str], list[int]] = defaultdict(list)
    wall: list[float] = []
    started = time.perf_counter()
    explicit = run_suite(
        ["-q", "-n", "2", "-p", "tests._explicit_only", "--hypothesis-profile=explicit-only"]
        + [f"--impl={i}" for i in args.impl]
    )
    pinned = {(r["key"], r["impl"]): set((r.get("regimes") or {}).get("reached", ())) for r in explicit.results}
    print(f"explicit examples only: {explicit.elapsed:.0f} s, {explicit.summary()}", file=sys.stderr, flush=True)
    for seed in seeds:
        run = run_suite(
            [
                "-q",
                "-n",
                "2",
                f"--conformance-profile={args.profile}",
                f"--hypothesis-seed={seed}",
                *[f"--impl={i}" for i in args.impl],
            ]
        )
        wall.append(run.elapsed)
        for r in run.results:
            key = (r["key"], r["impl"])
            if r["outcome"] in ("failed", "error", "crashed"):
                bad[key].append(seed)
            regimes = r.get("regimes")
            if not regimes:
                continue
            runs[key] += 1
            declared[key].update(regimes["declared"])
            for name in regimes["reached"]:
                reached[key][name] += 1
            for name in sorted(set(regimes["declared"]) - set(regimes["reached"])):
                print(f"  seed {seed}: {key[0]} ({key[1]}) did not reach {name}", file=sys.stderr, flush=True)
        below = sum(1 for key in declared if any(reached[key][n] < runs[key] for n in declared[key]))
        print(
            f"seed {seed}: {run.elapsed:.0f} s, {run.summary()}; properties below: {below}", file=sys.stderr, flush=True
        )
        if args.output:  # the table so far, after every seed
            done = seeds[: len(wall)]
            args.output.write_text(render(args, done, wall, started, declared, reached, runs, bad, pinned)[0] + "\n")
    text, complete = render(args, seeds[: len(wall)], wall, started, declared, reached, runs, bad, pinned)
    print(text)
    return 0 if complete else 1


def render(args, seeds, wall, started, declared, reached, runs, bad, pinned) -> tuple[str, bool]:
    """The Markdown for the runs so far (``pinned``: the regimes each property reached with its explicit
    examples only), and whether every declared regime was reached in every run."""
    n = len(seeds)
    command = "python bench/regimes.py" + (f" --seeds {args.seeds}" if args.seeds != 20 else "")
    command += "".join(f" --impl {i}" for i in args.impl)
    impls = ", ".join(args.impl) or "reference"
    lines = [
        f"Command: `{command}`",
        f"{n} seeds ({seeds[0]}..{seeds[-1]}), profile `{args.profile}`, `-n 2`, {impls}; wall time per run: median "
        f"{statistics.median(wall):.1f} s (min {min(wall):.1f}, max {max(wall):.1f}); "
        f"{(time.perf_counter() - started) / 60:.1f} min in all",
        "",
        "| property | implementation | regimes declared | by explicit examples | reached in every run "
        "| below (regime: runs that reached it) |",
        "|---|---|---|---|---|---|",
    ]
    total_declared = total_full = total_pinned = 0
    for key in sorted(declared):
        names = sorted(declared[key])
        full = [name for name in names if reached[key][name] == runs[key] == n]
        misses = "; ".join(f"{name}: {reached[key][name]}/{runs[key]}" for name in names if name not in full)
        if runs[key] < n:
            misses = (misses + "; " if misses else "") + f"declared in {runs[key]}/{n} runs"
        by_examples = len(set(names) & pinned.get(key, set()))
        total_declared += len(names)
        total_full += len(full)
        total_pinned += by_examples
        lines.append(f"| {key[0]} | {key[1]} | {len(names)} | {by_examples} | {len(full)} | {misses or '-'} |")
    failing = "; ".join(f"`{k[0]}` ({k[1]}): seeds {v}" for k, v in sorted(bad.items())) or "none"
    lines += [
        "",
        f"{len(declared)} properties declare {total_declared} regimes; {total_pinned} of them are reached by the "
        f"explicit examples alone (whatever the seed); {total_full} were reached in every one of the {n} runs.  "
        f"Failures: {failing}.",
    ]
    return "\n".join(lines), total_full == total_declared and not bad


if __name__ == "__main__":
    raise SystemExit(main())
