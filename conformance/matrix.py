"""Cross-version matrices from conformance reports: shared by ``layer-conformance sweep`` and
``bench/cross_version_matrix.py``.  Plain JSON in, Markdown lines out; this module imports no torch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["column_name", "surface_lines"]


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
