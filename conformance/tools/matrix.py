"""The cross-version matrix, from a sweep or from any saved reports: ``layer-conformance matrix``.

::

    layer-conformance matrix REPORT.json [REPORT.json ...] [--output PATH] [--summary PATH]

Each report (``--conformance-report DIR`` wrote ``DIR/report.json``) is one
column, in the order given, named after its implementation and version
(:func:`column_name`); the matrix is the one a release sweep writes
(:func:`layer_conformance.tools.history.markdown`): outcome counts per run, the
bugs of the bundled xfails files with the range the runs give, every property
whose outcome changes between consecutive runs, the xfail ranges, and the
surface section (:func:`surface_lines`); ``--output PATH`` writes its picture and page beside it
(``PATH`` with ``.svg`` and ``.html``, as a sweep's ``--markdown`` does).  ``--summary`` writes the same data as
``sweep.json`` does.  ``tox -e py,transformers4,transformers5,matrix`` merges its
three reports so.  A file that is not a report is a one-line error naming it.
Plain JSON in, Markdown out; this module imports no torch.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..formats.report import ReportError, load_report
from ..formats.xfails import XfailFileError, bundled_entries
from . import history

__all__ = ["column_name", "main", "runs_from_reports", "surface_lines"]


def column_name(report: dict[str, Any]) -> str:
    """``<implementation> <version>`` for each implementation of a report."""
    impls = report["implementations"]
    return ", ".join(f"{i['name']} {i.get('version') or ''}".strip() for i in impls)


def surface_lines(names: Sequence[str], reports: Sequence[dict[str, Any]]) -> list[str]:
    """The surface section: counts and uncovered items per column, then what each column adds to the one before."""
    surfaces = []
    for report in reports:
        merged: dict = {"items": set(), "covered": 0, "exempt": {}, "uncovered": []}
        for s in report.get("surface", {}).values():
            merged["items"] |= set(s["items"])
            merged["covered"] += s["covered"]
            merged["exempt"].update(s["exempt"])
            merged["uncovered"] += s["uncovered"]
        surfaces.append(merged if merged["items"] else None)
    if not any(surfaces):
        return []
    lines = [
        "",
        "## Surface",
        "",
        "Every parameter of every contract function and every registry key, against what the properties exercise.",
        "",
        "| | items | exercised | exempt | uncovered | new since the column before |",
        "|---|---|---|---|---|---|",
    ]
    previous = None
    for name, s in zip(names, surfaces, strict=True):
        if s is None:
            lines.append(f"| {name} | - | - | - | - | - |")
            continue
        uncovered = ", ".join(f"`{i}`" for i in s["uncovered"]) or "none"
        grown = "-" if previous is None else ", ".join(f"`{i}`" for i in sorted(s["items"] - previous)) or "none"
        lines.append(f"| {name} | {len(s['items'])} | {s['covered']} | {len(s['exempt'])} | {uncovered} | {grown} |")
        previous = s["items"]
    return lines


def _per_implementation(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The report of each implementation of a report (a run with ``--impl A --impl B`` makes two columns)."""
    impls = report.get("implementations") or []
    if len(impls) <= 1:
        return [report]
    out = []
    for impl in impls:
        name = impl.get("name")
        part = dict(report, implementations=[impl])
        part["results"] = [r for r in report["results"] if r.get("impl") == name]
        part["surface"] = {k: v for k, v in (report.get("surface") or {}).items() if k == name}
        out.append(part)
    return out


def runs_from_reports(paths: Sequence[str | Path]) -> list[history.Run]:
    """One run per implementation of each saved report, in order, named after the implementation and its version;
    :class:`~layer_conformance.formats.report.ReportError` names a file that is not a report."""
    runs = []
    for path in paths:
        for report in _per_implementation(load_report(path)):
            runs.append(history.Run(label=column_name(report), report=report, kind="impl", report_path=str(path)))
    return runs


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="layer-conformance matrix",
        description="The cross-version matrix (as a release sweep writes it) from saved conformance reports.",
    )
    parser.add_argument("reports", nargs="+", help="report.json files, one column each, in order")
    parser.add_argument(
        "--output",
        default=None,
        metavar="PATH",
        help="write the matrix here, its picture and page beside it (.svg, .html; default: the matrix to stdout)",
    )
    parser.add_argument("--summary", default=None, metavar="PATH", help="also write the data as sweep.json does")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        runs = runs_from_reports(args.reports)
        entries = [(impl, e) for impl in dict.fromkeys(r.impl for r in runs if r.impl) for e in bundled_entries(impl)]
    except (ReportError, XfailFileError) as exc:
        print(f"layer-conformance matrix: {exc}", file=sys.stderr)
        return 2
    checks = history.check_xfails(entries, runs)
    data = history.summary(runs, checks, command=["layer-conformance", "matrix", *(Path(p).name for p in args.reports)])
    names = [run.name for run in runs]
    surface = surface_lines(names, [run.report for run in runs if run.report is not None])
    if args.output:
        history.write_pages(Path(args.output), data, surface)
    else:
        sys.stdout.write(history.markdown(data, surface))
    if args.summary:
        Path(args.summary).parent.mkdir(parents=True, exist_ok=True)
        Path(args.summary).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return 0
