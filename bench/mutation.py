"""Mutation testing of the reference with cosmic-ray; the properties of each API as the test command.

    pip install cosmic-ray==8.7.0
    python bench/mutation.py [--modules masks,rope] [--work bench/.mutation] [--output docs/mutation.md]

Why cosmic-ray and not mutmut: cosmic-ray mutates the source file in place and
runs an arbitrary test command in a fresh process, so it works with this
repository's layout, where ``reference/`` is installed as
``layer_conformance.reference`` through a package-dir mapping; mutmut 3 copies
the sources into ``mutants/`` and relies on that copy being what gets imported,
which the editable mapping defeats.

Each module of ``reference/`` is mutated with the properties of its API only
(``-x``, the ``selftest`` Hypothesis profile: 25 derandomized examples, no
shrinking), so the run stays fast and a mutant is killed by the properties that
should kill it.  Differential properties (``test_matches_reference``) compare
the implementation with the reference, both mutated here, so they cannot kill
anything: the score comes from the other properties.  Survivors are listed with
their diff for classification in docs/mutation.md.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: reference module -> the property modules of its API
MODULES = {
    "pytorch_utils": ["test_conv1d.py", "test_chunking.py", "test_pruning.py"],
    "layers": ["test_checkpointing.py"],
    "registry": ["test_registries.py"],
    "masks": ["test_masks.py", "test_registries.py"],
    "attention": ["test_attention.py", "test_masks.py", "test_registries.py"],
    "rope": ["test_rope.py"],
}

CONFIG = """[cosmic-ray]
module-path = "{module}"
timeout = {timeout}
excluded-modules = []
test-command = "{python} -m pytest -x -q -p no:cacheprovider -p no:benchmark --hypothesis-profile=selftest {tests}"

[cosmic-ray.distributor]
name = "local"
"""


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=ROOT, text=True, capture_output=True, **kwargs)


def mutate(name: str, work: Path, timeout: float) -> dict:
    tests = " ".join(f"conformance/{t}" for t in MODULES[name])
    config = work / f"{name}.toml"
    session = work / f"{name}.sqlite"
    config.write_text(
        CONFIG.format(module=ROOT / "reference" / f"{name}.py", timeout=timeout, python=sys.executable, tests=tests)
    )
    if not session.exists():
        done = run(["cosmic-ray", "init", str(config), str(session)])
        if done.returncode:
            raise SystemExit(done.stderr)
    baseline = run(["cosmic-ray", "baseline", str(config)])
    if baseline.returncode:
        raise SystemExit(f"{name}: the unmutated tests fail: {baseline.stdout[-2000:]}{baseline.stderr[-2000:]}")
    start = time.perf_counter()
    run(["cosmic-ray", "exec", str(config), str(session)])
    elapsed = time.perf_counter() - start
    return summarize(name, session, elapsed)


def summarize(name: str, session: Path, elapsed: float) -> dict:
    db = sqlite3.connect(session)
    rows = db.execute(
        "select s.job_id, s.operator_name, s.start_pos_row, r.test_outcome, r.diff, r.worker_outcome "
        "from mutation_specs s left join work_results r on s.job_id = r.job_id"
    ).fetchall()
    outcomes: dict[str, int] = {}
    survivors = []
    for job, operator, line, test_outcome, diff, worker_outcome in rows:
        outcome = test_outcome or worker_outcome or "pending"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        if test_outcome == "survived":
            survivors.append({"job": job, "operator": operator, "line": line, "diff": diff})
    return {"module": name, "outcomes": outcomes, "survivors": survivors, "seconds": elapsed, "total": len(rows)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", default=",".join(MODULES))
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / ".mutation")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--summarize-only", action="store_true", help="read the sessions in --work, run nothing")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    results = []
    for name in args.modules.split(","):
        if args.summarize_only:
            results.append(summarize(name, args.work / f"{name}.sqlite", 0.0))
        else:
            results.append(mutate(name, args.work, args.timeout))
        r = results[-1]
        print(f"{name}: {r['outcomes']} in {r['seconds']:.0f} s", file=sys.stderr, flush=True)
    (args.work / "summary.json").write_text(json.dumps(results, indent=1))
    print(json.dumps([{k: v for k, v in r.items() if k != "survivors"} for r in results], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
