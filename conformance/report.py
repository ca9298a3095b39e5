"""Conformance reports: the result matrix, report.json / report.md, repro scripts, the baseline gate.

Every test report of a run is classified as ``passed``, ``failed``, ``xfailed``,
``stale`` (an expected failure that passed), ``missing`` (the implementation
lacks a contract name), ``skipped`` or ``error``, and filed under its
implementation, the contract names it needs and its implementation-free key
(``test_pruning.py::test_weight_and_bias_rules[linear-prune_linear_layer]``).

``--conformance-report DIR`` writes ``report.json`` (format
``layer-conformance-report/1``, documented by :func:`build_report`),
``report.md`` and one ``repro_<n>.py`` per failure whose example is plain data.
``--baseline report.json`` compares this run with a saved one: a property that
passed there and fails (or errors) now is a regression and fails the run;
``missing`` counts only under strictness (otherwise it is listed as missing
now); known bugs (``xfailed`` now) are listed apart; new passes are
improvements.
"""

from __future__ import annotations

import datetime
import json
import platform
import sys
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["FORMAT", "BaselineError", "Result", "build_report", "compare", "load_report", "write_report"]

FORMAT = "layer-conformance-report/1"
OUTCOMES = ("passed", "failed", "error", "xfailed", "stale", "missing", "skipped")


class BaselineError(ValueError):
    """A malformed report or baseline file; the message names the file (and line)."""


@dataclass
class Result:
    nodeid: str
    key: str
    impl: str
    apis: list[str]
    outcome: str
    reason: str = ""
    message: str = ""
    example: dict[str, Any] | None = None
    repro: str | None = None
    duration: float = 0.0


def _first_line(text: str, limit: int = 300) -> str:
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("E "):
            line = line[2:].strip()
        if line and not line.startswith(("def ", "@", "#")):
            return line[:limit]
    return text.strip()[:limit]


def error_message(longrepr: str) -> str:
    """The assertion or exception line of a failure's text."""
    lines = [ln[2:].strip() for ln in longrepr.splitlines() if ln.startswith("E ")]
    for ln in lines:
        if ln and not ln.startswith(("Falsifying", "You can reproduce", "impl=", ")")):
            return ln[:400]
    return _first_line(longrepr)


def classify(when: str, outcome: str, wasxfail: str | None, longrepr: str, skip_reason: str) -> tuple[str, str] | None:
    """(outcome, reason) of one pytest report, or None when it does not decide the test's outcome."""
    if outcome == "skipped" and when in ("setup", "call"):
        if wasxfail is not None:
            return "xfailed", wasxfail
        if skip_reason.startswith("missing:") or "missing: " in skip_reason:
            return "missing", skip_reason
        return "skipped", skip_reason
    if when == "call":
        if outcome == "passed":
            return ("stale", wasxfail) if wasxfail is not None else ("passed", "")
        if "[XPASS(strict)]" in longrepr:
            return "stale", longrepr.split("[XPASS(strict)]", 1)[1].strip()
        return "failed", ""
    if outcome == "failed":  # setup or teardown
        return "error", f"error in {when}"
    return None


def skip_reason_of(longrepr: Any) -> str:
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr or "")


# --------------------------------------------------------------------------- report building


def matrix(results: list[Result]) -> dict[str, dict[str, dict[str, str]]]:
    """impl -> API name -> property key -> outcome."""
    out: dict[str, dict[str, dict[str, str]]] = defaultdict(lambda: defaultdict(dict))
    for r in results:
        for api in r.apis or ["(none)"]:
            out[r.impl][api][r.key] = r.outcome
    return {impl: dict(per) for impl, per in out.items()}


def build_report(
    results: list[Result],
    *,
    implementations: list[dict[str, Any]],
    versions: dict[str, str | None],
    hypothesis: dict[str, Any],
    device: str,
    observed: dict[str, Any],
    baseline: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The report as plain data.

    Fields: ``format``; ``created`` (UTC, ISO 8601); ``versions`` (python, torch, transformers,
    layer_conformance); ``device``; ``hypothesis`` (profile, seed, derandomize, max_examples);
    ``implementations`` (name, origin, version, missing names); ``results`` (one per test: nodeid,
    key, impl, apis, outcome, reason, message, example, repro, duration); ``matrix`` (impl -> API ->
    key -> outcome); ``summary`` (impl -> outcome -> count); ``observed`` (impl -> behaviour ->
    outcomes); ``baseline`` (regressions, known_regressions, improvements; when compared).
    """
    summary = {impl: dict(Counter(r.outcome for r in results if r.impl == impl)) for impl in {r.impl for r in results}}
    report = {
        "format": FORMAT,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "versions": versions,
        "platform": f"{platform.system()} {platform.machine()}, python {sys.version.split()[0]}",
        "device": device,
        "hypothesis": hypothesis,
        "implementations": implementations,
        "results": [asdict(r) for r in sorted(results, key=lambda r: (r.impl, r.key))],
        "matrix": matrix(results),
        "summary": summary,
        "observed": observed,
    }
    if baseline is not None:
        report["baseline"] = baseline
    return report


def _markdown(report: dict[str, Any]) -> str:
    lines = ["# Conformance report", ""]
    v = report["versions"]
    lines.append(
        f"torch {v.get('torch')}, transformers {v.get('transformers') or '-'}, layer-conformance "
        f"{v.get('layer_conformance')}; device {report['device']}; {report['platform']}; created {report['created']}."
    )
    h = report["hypothesis"]
    lines.append(
        f"Hypothesis profile `{h.get('profile')}` (max_examples {h.get('max_examples')}, derandomize "
        f"{h.get('derandomize')}, seed {h.get('seed')})."
    )
    lines += [
        "",
        "## Implementations",
        "",
        "| implementation | version | origin | missing names |",
        "|---|---|---|---|",
    ]
    for impl in report["implementations"]:
        missing = ", ".join(impl["missing"]) or "-"
        lines.append(f"| {impl['name']} | {impl['version'] or '?'} | `{impl['origin']}` | {missing} |")
    lines += ["", "## Matrix", ""]
    impls = [i["name"] for i in report["implementations"]]
    lines.append("| API | " + " | ".join(impls) + " |")
    lines.append("|---|" + "---|" * len(impls))
    apis = sorted({api for per in report["matrix"].values() for api in per})
    for api in apis:
        cells = []
        for impl in impls:
            outcomes = Counter(report["matrix"].get(impl, {}).get(api, {}).values())
            cells.append(_cell(outcomes))
        lines.append(f"| {api} | " + " | ".join(cells) + " |")
    problems = [r for r in report["results"] if r["outcome"] in ("failed", "error", "stale", "xfailed")]
    if problems:
        lines += ["", "## Failures, errors, expected failures and stale expected failures", ""]
        for r in problems:
            repro = f" — repro: `python {r['repro']}`" if r.get("repro") else ""
            detail = r["message"] or r["reason"]
            lines.append(f"- **{r['outcome']}** `{r['impl']}` `{r['key']}`: {detail}{repro}")
    if report.get("observed"):
        lines += ["", "## Observed behaviours", ""]
        for impl, per in sorted(report["observed"].items()):
            for what, outcomes in sorted(per.items()):
                lines.append(f"- `{impl}`: {what}: {'; '.join(outcomes)}")
    if "baseline" in report:
        b = report["baseline"]
        lines += ["", f"## Against baseline `{b['path']}`", ""]
        for title, entries in (
            ("Regressions", b["regressions"]),
            ("Known regressions (expected failures now)", b["known_regressions"]),
            ("Missing now (not regressions unless strict)", b.get("newly_missing", [])),
            ("Improvements", b["improvements"]),
        ):
            lines.append(f"{title}: {len(entries)}")
            lines += [f"- `{e['key']}` ({e['impl']}): {e['before']} -> {e['after']}" for e in entries]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _cell(outcomes: Counter) -> str:
    if not outcomes:
        return "-"
    order = [o for o in OUTCOMES if outcomes.get(o)]
    return ", ".join(f"{outcomes[o]} {o}" for o in order)


def compact_lines(results: list[Result]) -> list[str]:
    """The terminal summary: one line per API name, each implementation's outcome counts."""
    by_api: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    for r in results:
        for api in r.apis or ["(none)"]:
            by_api[api][r.impl][r.outcome] += 1
    width = max((len(a) for a in by_api), default=0)
    lines = []
    for api in sorted(by_api):
        parts = [f"{impl}: {_cell(c)}" for impl, c in sorted(by_api[api].items())]
        lines.append(f"{api.ljust(width)}  " + "; ".join(parts))
    return lines


REPRO_TEMPLATE = '''#!/usr/bin/env python
"""Reproduces a failure of layer-conformance.

Property: {key}
Implementation: {impl} (version {version}); device {device}
Failure: {message}

Needs layer-conformance and the implementation installed; run from where the
implementation imports (`python {name}`).  The example below is plain data:
tensors are embedded as lists of values, nothing is unpickled.  Exit status 1
means the failure reproduced, 0 that it did not.
"""

import sys

from layer_conformance.repro import main

EXAMPLE = r"""
{example}
"""

if __name__ == "__main__":
    sys.exit(main(EXAMPLE, __file__))
'''


def write_report(
    report: dict[str, Any], directory: Path, results: list[Result], impl_versions: dict[str, str | None]
) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("repro_*.py"):
        old.unlink()
    n = 0
    for r in sorted(results, key=lambda r: (r.impl, r.key)):
        if r.outcome not in ("failed", "error") or not r.example or not r.example.get("replayable"):
            continue
        n += 1
        name = f"repro_{n}.py"
        payload = json.dumps(r.example, indent=1, sort_keys=True)
        (directory / name).write_text(
            REPRO_TEMPLATE.format(
                key=r.key,
                impl=r.impl,
                version=impl_versions.get(r.impl) or "?",
                device=report["device"],
                message=(r.message or "").replace('"""', "'''")[:300],
                name=name,
                example=payload,
            )
        )
        r.repro = name
    report["results"] = [asdict(r) for r in sorted(results, key=lambda r: (r.impl, r.key))]
    (directory / "report.json").write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    (directory / "report.md").write_text(_markdown(report))


# --------------------------------------------------------------------------- baseline


def load_report(path: str | Path) -> dict[str, Any]:
    """A saved report; malformed files raise :class:`BaselineError` naming the file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BaselineError(f"{path}:{exc.lineno}: not JSON: {exc.msg}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BaselineError(f"{path}:1: not a layer-conformance report (format {FORMAT!r} expected)")
    results = data.get("results")
    if not isinstance(results, list) or not all(
        isinstance(r, dict) and {"key", "impl", "outcome"} <= r.keys() for r in results
    ):
        raise BaselineError(f"{path}:1: 'results' must be a list of entries with key, impl and outcome")
    return data


def compare(baseline: dict[str, Any], results: list[Result], *, path: str, strict: bool) -> dict[str, Any]:
    """Regressions, known regressions and improvements of ``results`` against ``baseline``."""
    before_impls = {r["impl"] for r in baseline["results"]}
    now_impls = {r.impl for r in results}
    by_key_only = len(before_impls) == 1 and len(now_impls) == 1
    before = {(None if by_key_only else r["impl"], r["key"]): r["outcome"] for r in baseline["results"]}
    regressions, known, improvements, newly_missing = [], [], [], []
    bad = {"failed", "error"} | ({"missing"} if strict else set())
    for r in sorted(results, key=lambda r: (r.impl, r.key)):
        old = before.get((None if by_key_only else r.impl, r.key))
        if old is None:
            continue
        entry = {"key": r.key, "impl": r.impl, "before": old, "after": r.outcome}
        if old == "passed" and r.outcome in bad:
            regressions.append(entry)
        elif old == "passed" and r.outcome == "xfailed":
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
    }
