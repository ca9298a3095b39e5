"""Mutation testing of the reference: cosmic-ray's mutants, each module against the properties of its API.

    pip install -e ".[mutation]"   # cosmic-ray 8.7.0
    python bench/mutation.py [--modules masks,rope] [--work DIR]      # run (resumes where it stopped)
    python bench/mutation.py --markdown [--work DIR] > docs/mutation.md

Why cosmic-ray and not mutmut: cosmic-ray mutates the source file in place, so it
works with this repository's layout, where ``reference/`` is installed as
``layer_conformance.reference`` through a package-dir mapping; mutmut 3 copies
the sources into ``mutants/`` and relies on that copy being what gets imported,
which the editable mapping defeats.

cosmic-ray lists the mutants (``cosmic-ray init``) and applies each one to the
file on disk; the properties then run in this process (``pytest.main``, after
dropping every ``layer_conformance`` module so that the mutant is imported afresh
by the implementation and by the properties alike), rather than in a new Python
per mutant as ``cosmic-ray exec`` does: the start-up of torch would otherwise
be most of the run (about 1700 mutants).  Each module is tested with the
properties of its API only (``-x``, the ``selftest`` Hypothesis profile: 25
derandomized examples, no shrinking).  Differential properties
(``test_matches_reference``) compare the implementation with the reference,
both mutated here, so they cannot kill anything: the score comes from the other
properties.  Survivors are listed with their diff for classification in
docs/mutation.md.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import io
import json
import os
import signal
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
timeout = 120
excluded-modules = []
test-command = "true"

[cosmic-ray.distributor]
name = "local"
"""


class Timeout(Exception):
    pass


def specs(name: str, work: Path) -> list[tuple[str, str, str, int, int]]:
    """(job id, operator, operator args, occurrence, line) of every mutant of ``reference/<name>.py``."""
    session = work / f"{name}.sqlite"
    if not session.exists():
        config = work / f"{name}.toml"
        config.write_text(CONFIG.format(module=ROOT / "reference" / f"{name}.py"))
        done = subprocess.run(["cosmic-ray", "init", str(config), str(session)], capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(done.stderr)
    db = sqlite3.connect(session)
    return db.execute(
        "select job_id, operator_name, operator_args, occurrence, start_pos_row from mutation_specs order by job_id"
    ).fetchall()


def run_properties(tests: list[str]) -> int:
    """The properties, in this process, with every layer_conformance module imported afresh."""
    for module in [m for m in sys.modules if m.split(".")[0] in ("layer_conformance", "conformance")]:
        del sys.modules[module]
    args = [str(ROOT / "conformance" / "properties" / t) for t in tests]
    args += ["-x", "-q", "-p", "no:cacheprovider", "-p", "no:benchmark", "--conformance-profile=selftest"]
    args += ["--example-timeout=20", "-W", "ignore"]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return int(pytest_main(args))


def pytest_main(args: list[str]) -> int:
    import pytest

    return pytest.main(args)


class _DropAnnotations(ast.NodeTransformer):
    def visit_arg(self, node: ast.arg) -> ast.arg:
        node.annotation = None
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        node.returns = None
        self.generic_visit(node)
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        node.annotation = ast.Constant(None)
        return node


def only_annotations(original: str, mutated: str) -> bool:
    """Whether the mutant changes type annotations only: equivalent, since every reference module
    postpones their evaluation (``from __future__ import annotations``)."""
    strip = _DropAnnotations()
    return ast.dump(strip.visit(ast.parse(original))) == ast.dump(strip.visit(ast.parse(mutated)))


def mutate(name: str, work: Path, limit: float) -> dict:
    from cosmic_ray.mutating import use_mutation
    from cosmic_ray.plugins import get_operator

    results_path = work / f"{name}.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    module_path = ROOT / "reference" / f"{name}.py"
    start = time.perf_counter()

    def on_alarm(signum, frame):
        raise Timeout

    signal.signal(signal.SIGALRM, on_alarm)
    for job, operator_name, operator_args, occurrence, line in specs(name, work):
        if job in results:
            continue
        operator_kwargs = json.loads(operator_args) if operator_args else {}
        if isinstance(operator_kwargs, str):  # stored JSON-encoded twice
            operator_kwargs = json.loads(operator_kwargs)
        operator = get_operator(operator_name)(**(operator_kwargs or {}))
        with use_mutation(module_path, operator, occurrence) as (original, mutated):
            if mutated is None:
                outcome = "no mutation"
            elif only_annotations(original, mutated):
                outcome = "equivalent (annotation)"
            else:
                signal.alarm(int(limit))
                try:
                    outcome = "killed" if run_properties(MODULES[name]) != 0 else "survived"
                except Timeout:
                    outcome = "killed (timeout)"
                finally:
                    signal.alarm(0)
        diff = ""
        if mutated is not None:
            import difflib

            diff = "".join(difflib.unified_diff(original.splitlines(True), mutated.splitlines(True), n=0))
        results[job] = {"operator": operator_name, "line": line, "outcome": outcome, "diff": diff}
        results_path.write_text(json.dumps(results, indent=1))
    return summarize(name, results, time.perf_counter() - start)


def summarize(name: str, results: dict, seconds: float) -> dict:
    outcomes: dict[str, int] = {}
    for r in results.values():
        outcomes[r["outcome"]] = outcomes.get(r["outcome"], 0) + 1
    survivors = sorted((r for r in results.values() if r["outcome"] == "survived"), key=lambda r: r["line"])
    return {"module": name, "outcomes": outcomes, "seconds": seconds, "survivors": survivors}


def markdown(names: list[str], work: Path) -> str:
    """The score table per module and every survivor with its diff and classification."""
    from equivalents import reason  # bench/equivalents.py, next to this script

    lines = [
        "# Mutation score of the reference",
        "",
        "Generated by `python bench/mutation.py --markdown > docs/mutation.md` from the results of",
        "`python bench/mutation.py` (cosmic-ray 8.7.0 operators; every mutant of `reference/<module>.py`",
        "is run against the properties of that module's API, `selftest` profile: 25 derandomized examples,",
        "no shrinking). Why cosmic-ray, and how the runner works: the docstring of `bench/mutation.py`.",
        "Equivalent survivors are classified, with the reason, in `bench/equivalents.py`; a survivor that",
        "is not equivalent got a property and a broken implementation in `tests/broken` instead.",
        "",
        "Mutants whose only change is a type annotation are equivalent by construction (counted apart).",
        "The score is killed / (killed + survivors not classified as equivalent).",
        "",
        "| module | mutants | killed | equivalent: annotations only | survived: equivalent (classified) "
        "| survived: not classified | score (killed / non-equivalent) |",
        "|---|---|---|---|---|---|---|",
    ]
    survivors = []
    totals = [0, 0, 0, 0, 0]
    for name in names:
        path = work / f"{name}.json"
        if not path.exists():
            continue
        results = json.loads(path.read_text())
        killed = sum(r["outcome"].startswith("killed") for r in results.values())
        annotation = sum(r["outcome"] == "equivalent (annotation)" for r in results.values())
        survived = sorted((r for r in results.values() if r["outcome"] == "survived"), key=lambda r: r["line"])
        classified = [r for r in survived if reason(name, r["diff"])]
        unclassified = len(survived) - len(classified)
        row = [len(results), killed, annotation, len(classified), unclassified]
        totals = [t + x for t, x in zip(totals, row, strict=True)]
        lines.append(
            f"| reference/{name}.py | {' | '.join(map(str, row))} | {100 * killed / max(1, killed + unclassified):.1f}% |"
        )
        survivors += [(name, r) for r in survived]
    lines.append(
        f"| **all** | {' | '.join(map(str, totals))} | {100 * totals[1] / max(1, totals[1] + totals[4]):.1f}% |"
    )
    lines += ["", "Survivors (the mutated line, then why it is equivalent):", ""]
    for name, r in survivors:
        changed = [ln for ln in r["diff"].splitlines() if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]
        why = reason(name, r["diff"]) or "**NOT CLASSIFIED: a missing property?**"
        lines.append(f"- `reference/{name}.py:{r['line']}` {r['operator'].split('/')[-1]}: `{' / '.join(changed)}`")
        lines.append(f"  -- {why}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", default=",".join(MODULES))
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / ".mutation")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds a mutant's properties may run")
    parser.add_argument("--markdown", action="store_true", help="print the results in --work as Markdown; run nothing")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    if args.markdown:
        print(markdown(args.modules.split(","), args.work))
        return 0
    os.chdir(ROOT)
    summaries = []
    for name in args.modules.split(","):
        summaries.append(mutate(name, args.work, args.timeout))
        s = summaries[-1]
        print(f"{name}: {s['outcomes']} in {s['seconds']:.0f} s", file=sys.stderr, flush=True)
    (args.work / "summary.json").write_text(json.dumps(summaries, indent=1))
    print(json.dumps([{k: v for k, v in s.items() if k != "survivors"} for s in summaries], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
