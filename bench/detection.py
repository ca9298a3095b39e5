"""Detection under random seeds: is every seeded bug in ``tests/broken`` found under every seed?

    python bench/detection.py [--seeds 20] [--first-seed 0] [--only NAME ...] [--output FILE]

For each seed, one session runs every property against every broken implementation at once, as
``tests/inner.py`` does (every ``--impl tests.broken.<name>``, ``--deselect-missing``, ``-n 2``, the
attention backends ``eager``, ``sdpa`` and ``kernel``, under which the broken kernels register), but
in the default profile ``dev`` -- 40 random examples per property, what a user gets -- with
``--hypothesis-seed=SEED`` (which also keeps the example database out: no failure is replayed from
an earlier run).  A broken implementation is *detected* under a seed when every property its
``KILLED_BY`` names failed (in at least one of its parametrizations), as ``tests/test_kills.py``
requires in CI; the table also says under how many seeds any property failed at all.  Outcomes come
from the run's ``report.json`` (``bench/_suite.py``), never from terminal output.  A first session with
the explicit examples only (nothing drawn: the Hypothesis profile ``explicit-only`` of
``tests/_explicit_only.py``) shows which broken implementations are detected whatever the seed: the
column "by explicit examples".  Output is Markdown.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

from _suite import ROOT, run_suite

sys.path.insert(0, str(ROOT))

import tests.broken  # noqa: E402

#: The attention backends the broken implementations need (tests/inner.py: the broken kernels register "kernel").
BACKENDS = ("eager", "sdpa", "kernel")


def broken_names() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(tests.broken.__path__) if not m.name.startswith("_"))


def killed_by(name: str) -> list[str]:
    return list(importlib.import_module(f"tests.broken.{name}").KILLED_BY)


def function_key(key: str) -> str:
    """``test_masks.py::test_x`` of a result key ``test_masks.py::test_x[decode]``."""
    return re.sub(r"\[.*\]$", "", key)


def run_seed(
    names: list[str],
    seed: int,
    profile: str,
    killed_by_only: bool = False,
    no_shrink: bool = False,
    explicit_only: bool = False,
) -> tuple[dict[str, dict[str, set[str]]], float, str]:
    """impl name -> property (function key) -> outcomes, the wall time and the summary of one session
    (``explicit_only``: the explicit examples alone, whatever ``profile`` and ``seed``)."""
    chosen = (
        ["-p", "tests._explicit_only", "--hypothesis-profile=explicit-only"]
        if explicit_only
        else [f"--conformance-profile={profile}", f"--hypothesis-seed={seed}"]
    )
    args = [
        "-q",
        "-n",
        "2",
        "--deselect-missing",
        *chosen,
        "-o",
        f"pythonpath={ROOT} {ROOT / 'bench'}",
        *(["-p", "_killed_by_only"] if killed_by_only else []),
        *(["-p", "_no_shrink"] if no_shrink else []),
        *[f"--attention-backend={key}" for key in BACKENDS],
        *[f"--impl=tests.broken.{name}" for name in names],
    ]
    run = run_suite(args)
    outcomes: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for r in run.results:
        outcomes[r["impl"]][function_key(r["key"])].add(r["outcome"])
    return outcomes, run.elapsed, run.summary()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--profile", default="dev", help="Hypothesis profile of the suite (default: dev, the default)")
    parser.add_argument("--only", action="append", default=[], help="these broken implementations only")
    parser.add_argument(
        "--killed-by-only",
        action="store_true",
        help="run only the properties each broken implementation's KILLED_BY names (faster; 'any property failed' "
        "then counts those only)",
    )
    parser.add_argument(
        "--no-shrink",
        action="store_true",
        help="skip Hypothesis' shrink phase (the same examples, so the same verdicts; no smallest failing example)",
    )
    parser.add_argument("--output", type=Path, default=None, help="also write the Markdown here")
    args = parser.parse_args(argv)
    names = args.only or broken_names()
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    detected: dict[str, list[int]] = {name: [] for name in names}
    any_failed: dict[str, list[int]] = {name: [] for name in names}
    #: per broken implementation, property of KILLED_BY -> seeds under which it did not fail
    survived: dict[str, dict[str, list[int]]] = {name: defaultdict(list) for name in names}
    wall: list[float] = []
    started = time.perf_counter()
    outcomes, elapsed, summary = run_seed(names, 0, args.profile, args.killed_by_only, explicit_only=True)
    by_examples = {
        name: all("failed" in outcomes.get(f"tests.broken.{name}", {}).get(key, ()) for key in killed_by(name))
        for name in names
    }
    print(f"explicit examples only: {elapsed:.0f} s, {summary}", file=sys.stderr, flush=True)

    def render() -> tuple[str, int]:
        """The Markdown for the seeds run so far, and how many implementations were detected under each."""
        done = seeds[: len(wall)]
        n = len(done)
        command = "python bench/detection.py" + (f" --seeds {args.seeds}" if args.seeds != 20 else "")
        command += " --killed-by-only" if args.killed_by_only else ""
        command += " --no-shrink" if args.no_shrink else ""
        command += "".join(f" --only {o}" for o in args.only)
        shrink = " without shrinking" if args.no_shrink else ""
        lines = [
            f"Command: `{command}`",
            f"{n} seeds ({done[0]}..{done[-1]}), profile `{args.profile}`{shrink}, `-n 2`, {len(names)} broken "
            f"implementations in one session per seed; {sum(wall) / n:.0f} s per session, "
            f"{(time.perf_counter() - started) / 60:.1f} min in all",
            "",
            "| broken implementation | by explicit examples | detected (every KILLED_BY property failed) "
            "| any property failed | missed by (property: seeds) |",
            "|---|---|---|---|---|",
        ]
        for name in names:
            misses = "; ".join(f"`{key}`: {seeds_}" for key, seeds_ in survived[name].items()) or "-"
            flag = "" if len(detected[name]) == n else " **below**"
            pinned = "yes" if by_examples[name] else "no"
            lines.append(
                f"| {name} | {pinned} | {len(detected[name])}/{n}{flag} | {len(any_failed[name])}/{n} | {misses} |"
            )
        full = sum(len(detected[name]) == n for name in names)
        lines += [
            "",
            f"Detected under every seed: {full} of {len(names)} broken implementations; by the explicit examples "
            f"alone (whatever the seed): {sum(by_examples.values())}.",
        ]
        return "\n".join(lines), full

    for seed in seeds:
        outcomes, elapsed, summary = run_seed(names, seed, args.profile, args.killed_by_only, args.no_shrink)
        wall.append(elapsed)
        for name in names:
            seen = outcomes.get(f"tests.broken.{name}", {})
            missed = [key for key in killed_by(name) if "failed" not in seen.get(key, ())]
            for key in missed:
                survived[name][key].append(seed)
            if not missed:
                detected[name].append(seed)
            if any("failed" in o for o in seen.values()):
                any_failed[name].append(seed)
        below = [n for n in names if seed not in detected[n]]
        print(f"seed {seed}: {elapsed:.0f} s, {summary}; not detected: {below or 'none'}", file=sys.stderr, flush=True)
        if args.output:  # the table so far, after every seed
            args.output.write_text(render()[0] + "\n")

    text, full = render()
    print(text)
    return 0 if full == len(names) else 1


if __name__ == "__main__":
    raise SystemExit(main())
