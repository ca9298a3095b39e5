"""The upgrade gate: this run against a saved report (``--baseline report.json``).

A property that passed in the baseline and now fails, errors or crashes is a
**regression**: listed at the end of the run and failing it.  ``missing`` counts
as a regression only under strictness (otherwise it is listed as missing now);
known bugs and declared differences (``xfailed`` or ``differs`` now) are listed apart; new passes are improvements;
properties of the baseline this run did not run at all (a ``-k`` selection, a
smaller ``--impl`` list) are counted as not run, never compared.  The saved
report is read by :func:`layer_conformance.formats.report.load_report`.
"""

from __future__ import annotations

from typing import Any

from ..formats.report import Result

__all__ = ["compare"]


def compare(baseline: dict[str, Any], results: list[Result], *, path: str, strict: bool) -> dict[str, Any]:
    """Regressions, known regressions, names missing now and improvements of ``results`` against ``baseline``."""
    before_impls = {r["impl"] for r in baseline["results"]}
    now_impls = {r.impl for r in results}
    by_key_only = len(before_impls) == 1 and len(now_impls) == 1
    before = {(None if by_key_only else r["impl"], r["key"]): r["outcome"] for r in baseline["results"]}
    regressions, known, improvements, newly_missing = [], [], [], []
    bad = {"failed", "error", "crashed"} | ({"missing"} if strict else set())
    seen = set()
    for r in sorted(results, key=lambda r: (r.impl, r.key)):
        seen.add((None if by_key_only else r.impl, r.key))
        old = before.get((None if by_key_only else r.impl, r.key))
        if old is None:
            continue
        entry = {"key": r.key, "impl": r.impl, "before": old, "after": r.outcome}
        if old == "passed" and r.outcome in bad:
            regressions.append(entry)
        elif old == "passed" and r.outcome in ("xfailed", "differs"):
            known.append(entry)
        elif old == "passed" and r.outcome == "missing":
            newly_missing.append(entry)
        elif old != "passed" and r.outcome == "passed":
            improvements.append(entry)
    return {
        "path": path,
        "regressions": regressions,
        "known_regressions": known,
        "newly_missing": newly_missing,
        "improvements": improvements,
        "not_run": sum(1 for k in before if k not in seen),
    }
