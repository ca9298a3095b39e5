"""Conformance reports: the result matrix, report.json and report.md.

Every property run ends as one :class:`Result`: ``passed``, ``failed``,
``error`` (in setup or teardown), ``crashed`` (the xdist worker running it
died), ``xfailed`` (a recorded bug), ``differs`` (a rule its implementation
declares it does differently by design), ``stale`` (an expected failure or a
declared difference that passed), ``missing`` (the implementation lacks a contract name) or
``skipped``, filed under its implementation, the contract names it needs and
its implementation-free key
(``test_pruning.py::test_weight_and_bias_rules[linear-prune_linear_layer]``).
The plugin builds results from the structured records of pytest's reports
(:mod:`layer_conformance.plugin.results`); the tools read saved reports back
(:func:`load_report`: the gate's baseline, a sweep's releases).

``--conformance-report DIR`` writes ``report.json`` (format
``layer-conformance-report/1``, documented by :func:`build_report`),
``report.md``, ``report.html`` (:mod:`layer_conformance.formats.html`: the page
people open) and one ``repro_<n>.py`` per failure whose example is plain data
(:mod:`layer_conformance.formats.example`; the script runs
:mod:`layer_conformance.tools.replay`).  This module imports nothing but the
standard library.
"""

from __future__ import annotations

import datetime
import json
import platform
import sys
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "FORMAT",
    "OUTCOMES",
    "REPRO_TEMPLATE",
    "ReportError",
    "Result",
    "XFAIL_SEPARATOR",
    "build_report",
    "compact_lines",
    "load_report",
    "matrix",
    "surface_lines",
    "write_report",
    "write_scripts",
    "xfail_sources",
]

FORMAT = "layer-conformance-report/1"
OUTCOMES = ("passed", "failed", "error", "crashed", "xfailed", "differs", "stale", "missing", "skipped")
#: Between the entries a result's ``xfail`` field names (a test whose distinct failures matched several).
XFAIL_SEPARATOR = "; "


def xfail_sources(result: Mapping[str, Any]) -> list[str]:
    """The entries (``file:line`` of an xfails line, ``<impl>: DESIGN_DIFFERENCES[i]``) a result names."""
    text = result.get("xfail") or ""
    return text.split(XFAIL_SEPARATOR) if text else []


@dataclass
class Result:
    """The outcome of one test of a property on one implementation (one entry of ``results``)."""

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
    #: examples the property ran (calls of its body, shrinking included); None when unknown (a crash)
    examples: int | None = None
    #: the expected-failure entry (file:line) that applied, if any (xfailed, stale, or a failure it did not describe)
    xfail: str | None = None
    #: a failure that an entry for this test describes, outside the entry's version range: the entry (file:line)
    xfail_outside: str | None = None
    #: the regimes of the input space its strategies declared and those its examples reached
    #: (``{"declared": [...], "reached": [...]}``, :mod:`layer_conformance.strategies.regimes`); None: none declared
    regimes: dict[str, list[str]] | None = None
    #: examples discarded because the implementation has no counterpart for an input of theirs: ``"<item>
    #: (<why>)"`` -> count (:func:`layer_conformance.missing.unsupported`); None: none
    unsupported: dict[str, int] | None = None
    #: the documented behaviour the property checks (its docstring; "" when unknown: a crash before setup)
    law: str = ""


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
    attention_backends: dict[str, list[str]] | None = None,
    surface: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The report as plain data.

    Fields: ``format``; ``created`` (UTC, ISO 8601); ``versions`` (python, torch, transformers,
    layer_conformance); ``device``; ``hypothesis`` (profile, seed, derandomize, max_examples);
    ``implementations`` (name, origin, version, missing names, ``missing_reasons``: why it lacks them where
    it says, ``differences``: the rules it declares it does differently by design, each with its pattern,
    rule, source, failure and versions); ``attention_backends`` (the selected
    backend keys, and the ones ``all`` left out with the reason); ``results`` (one per test: nodeid,
    key, impl, apis, outcome, reason, message, example, repro, duration, examples; ``xfail``: the
    expected-failure entries that applied (:func:`xfail_sources`), ``xfail_outside``: an entry describing this failure outside its
    version range; ``unsupported``: examples discarded for an input the implementation has no counterpart for;
    ``regimes``: the regimes of the input space its strategies declared and those its
    examples reached, see :mod:`layer_conformance.strategies.regimes`; ``law``: the documented behaviour
    the property checks, its docstring); ``matrix`` (impl -> API ->
    key -> outcome); ``summary`` (impl -> outcome -> count); ``observed`` (impl -> behaviour ->
    outcomes); ``surface`` (impl -> ``items``: every parameter and registry key, ``covered``: how many
    the properties exercise, ``uncovered``: the items none exercises, ``exempt``: item -> why none can;
    see :mod:`layer_conformance.surface`); ``baseline`` (regressions, known_regressions, improvements;
    when compared).
    """
    summary = {impl: dict(Counter(r.outcome for r in results if r.impl == impl)) for impl in {r.impl for r in results}}
    report = {
        "format": FORMAT,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "versions": versions,
        "platform": f"{platform.system()} {platform.machine()}, python {sys.version.split()[0]}",
        "device": device,
        "attention_backends": attention_backends or {"selected": [], "left_out": []},
        "hypothesis": hypothesis,
        "implementations": implementations,
        "results": [asdict(r) for r in sorted(results, key=lambda r: (r.impl, r.key))],
        "matrix": matrix(results),
        "summary": summary,
        "observed": observed,
        "surface": surface or {},
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
    problems = [
        r for r in report["results"] if r["outcome"] in ("failed", "error", "crashed", "stale", "xfailed", "differs")
    ]
    if problems:
        lines += ["", "## Failures, errors, crashes, expected failures, differences by design and stale ones", ""]
        for r in problems:
            repro = f" — repro: `python {r['repro']}`" if r.get("repro") else ""
            detail = r["message"] or r["reason"]
            lines.append(f"- **{r['outcome']}** `{r['impl']}` `{r['key']}`: {detail}{repro}")
    unjudged = [r for r in report["results"] if r.get("unsupported")]
    if unjudged:
        lines += [
            "",
            "## Left unjudged",
            "",
            "Examples discarded because the implementation has no counterpart for an input of theirs.",
            "",
        ]
        for r in unjudged:
            what = "; ".join(f"{item}: {n} example{'s' if n != 1 else ''}" for item, n in r["unsupported"].items())
            lines.append(f"- `{r['impl']}` `{r['key']}` ({r['outcome']}): {what}")
    if report.get("surface"):
        lines += ["", *surface_lines(report["surface"])]
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
        lines.append(f"Not run now: {b.get('not_run', 0)}")
    return "\n".join(lines).rstrip() + "\n"


def surface_lines(summary: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The report's section: per implementation, the uncovered items and the exempt ones with their reasons."""
    lines = [
        "## Surface",
        "",
        "Every parameter of every contract function and every registry key of each implementation, against what "
        "the properties exercise (`layer_conformance.surface`).",
        "",
        "| implementation | items | exercised | exempt | uncovered |",
        "|---|---|---|---|---|",
    ]
    for name, s in summary.items():
        uncovered = ", ".join(f"`{i}`" for i in s["uncovered"]) or "none"
        lines.append(f"| {name} | {len(s['items'])} | {s['covered']} | {len(s['exempt'])} | {uncovered} |")
    reasons: dict[str, list[str]] = {}
    for s in summary.values():
        for item, reason in s["exempt"].items():
            reasons.setdefault(reason, [])
            if item not in reasons[reason]:
                reasons[reason].append(item)
    if reasons:
        lines += ["", "Exempt:", ""]
        lines += [f"- {', '.join(f'`{i}`' for i in items)}: {reason}" for reason, items in reasons.items()]
    return lines


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


class ReportError(ValueError):
    """A malformed report (a baseline, a sweep's report); the message names the file (and line)."""


def load_report(path: str | Path) -> dict[str, Any]:
    """A saved report; malformed files raise :class:`ReportError` naming the file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportError(f"{path}:{exc.lineno}: not JSON: {exc.msg}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ReportError(f"{path}:1: not a layer-conformance report (format {FORMAT!r} expected)")
    results = data.get("results")
    if not isinstance(results, list) or not all(
        isinstance(r, dict) and {"key", "impl", "outcome"} <= r.keys() for r in results
    ):
        raise ReportError(f"{path}:1: 'results' must be a list of entries with key, impl and outcome")
    return data


def write_report(report: dict[str, Any], directory: Path, results: list[Result]) -> None:
    """report.json, report.md, report.html and the repro scripts of ``results`` into ``directory``."""
    from .html import report_page

    directory.mkdir(parents=True, exist_ok=True)
    versions = {i["name"]: i.get("version") for i in report["implementations"]}
    write_scripts(directory, results, versions, device=report["device"])
    report["results"] = [asdict(r) for r in sorted(results, key=lambda r: (r.impl, r.key))]
    (directory / "report.json").write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    (directory / "report.md").write_text(_markdown(report))
    (directory / "report.html").write_text(report_page(report), encoding="utf-8")


# --------------------------------------------------------------------------- repro scripts


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

from layer_conformance.tools.replay import main

EXAMPLE = r"""
{example}
"""

if __name__ == "__main__":
    sys.exit(main(EXAMPLE, __file__))
'''


def write_scripts(directory: Path, results: list[Any], versions: dict[str, str | None], *, device: str) -> None:
    """One ``repro_<n>.py`` per failed result with a replayable example; sets each result's ``repro``.
    Scripts of an earlier report in ``directory`` are removed first."""
    for old in directory.glob("repro_*.py"):
        old.unlink()
    n = 0
    for r in sorted(results, key=lambda r: (r.impl, r.key)):
        if r.outcome not in ("failed", "error") or not r.example or not r.example.get("replayable"):
            continue
        n += 1
        name = f"repro_{n}.py"
        (directory / name).write_text(
            REPRO_TEMPLATE.format(
                key=r.key,
                impl=r.impl,
                version=versions.get(r.impl) or "?",
                device=device,
                message=(r.message or "").replace('"""', "'''")[:300],
                name=name,
                example=json.dumps(r.example, indent=1, sort_keys=True),
            )
        )
        r.repro = name
