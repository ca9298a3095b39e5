"""Merge conformance reports of several runs into one cross-version matrix (Markdown).

    python bench/cross_version_matrix.py --output docs/cross-version-matrix.md REPORT.json [REPORT.json ...]

Regenerate the committed matrix with one command (it runs the three suites and merges them):

    tox -e py,transformers4,transformers5,matrix

Each report is one column, named after its implementation and version.  The
first table counts outcomes per API name; the second lists every property whose
outcome differs between the columns; the surface section says, per column, how
much of the implementation's surface (every parameter and registry key, see
``layer_conformance.surface``) the properties exercise, what is uncovered, and
what each column has that the one before it does not (with the columns in
release order, where the surface grew).  Plain JSON in, plain Markdown out.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from layer_conformance.matrix import column_name, surface_lines

ORDER = ("passed", "failed", "error", "xfailed", "stale", "missing", "skipped")


def load(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise SystemExit(f"{path}: cannot read a report: {exc}") from None
    if data.get("format") != "layer-conformance-report/1":
        raise SystemExit(f"{path}:1: not a layer-conformance report")
    return data


def cell(outcomes: Counter) -> str:
    return ", ".join(f"{outcomes[o]} {o}" for o in ORDER if outcomes.get(o)) or "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+", type=Path)
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    reports = [load(p) for p in args.reports]
    names = [column_name(r) for r in reports]
    lines = ["# Cross-version conformance matrix", ""]
    lines.append("Regenerate: `tox -e py,transformers4,transformers5,matrix` (CPU, default Hypothesis profile).")
    lines.append("")
    for name, report in zip(names, reports, strict=True):
        v = report["versions"]
        lines.append(
            f"- **{name}**: torch {v.get('torch')}, created {report['created']}, profile {report['hypothesis']['profile']}"
        )
    lines += ["", "## Outcomes per API name", "", "| API | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    apis = sorted({api for r in reports for per in r["matrix"].values() for api in per})
    for api in apis:
        cells = [cell(Counter(o for per in r["matrix"].values() for o in per.get(api, {}).values())) for r in reports]
        lines.append(f"| {api} | " + " | ".join(cells) + " |")
    outcomes = [{res["key"]: res["outcome"] for res in r["results"]} for r in reports]
    keys = sorted(set().union(*outcomes))
    differing = [
        k
        for k in keys
        if len({o.get(k, "-") for o in outcomes}) > 1 or any(o.get(k) not in ("passed", None) for o in outcomes)
    ]
    lines += [
        "",
        "## Properties that do not pass everywhere",
        "",
        "| property | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for k in differing:
        lines.append(f"| `{k}` | " + " | ".join(o.get(k, "-") for o in outcomes) + " |")
    lines += surface_lines(names, reports)
    reasons = {}
    for r in reports:
        for res in r["results"]:
            if res["outcome"] in ("xfailed", "failed", "error", "stale") and res["key"] not in reasons:
                reasons[res["key"]] = (
                    res["outcome"],
                    (res.get("message") or res.get("reason") or "").split(" [repro:")[0],
                )
    if reasons:
        lines += ["", "## Why", ""]
        lines += [f"- `{k}` ({o}): {why}" for k, (o, why) in sorted(reasons.items())]
    text = "\n".join(lines) + "\n"
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
