"""The surface check of a run: what of each implementation's surface no property exercises.

Where the implementations are loaded (the only process of a serial run, each
pytest-xdist worker), :func:`facts_of` lists an implementation's surface
(:func:`layer_conformance.surface.surface_of`: every parameter of every
contract function, every key of every registry) and its ``SURFACE_ALIASES``
hook; they travel with the run's facts (a worker's ``workeroutput``).  Where
the results end up, :func:`summarize` compares each surface with the declared
coverage (:data:`layer_conformance.surface.COVERED`) and with the items the
properties reported running in this run (the records' ``exercised``), and
:func:`terminal_lines` says what is uncovered and what is exempt (the report's
section: :func:`layer_conformance.formats.report.surface_lines`).  The same facts and records give the same answer serially and under
xdist.  This module imports no torch.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..contract import NAMES
from ..surface import coverage, surface_of

__all__ = ["facts_of", "summarize", "terminal_lines"]


def facts_of(impl: Any) -> dict[str, Any]:
    """An implementation's surface and aliases, as plain data (for the run's facts)."""
    aliases = impl.hook("SURFACE_ALIASES", {})
    if not isinstance(aliases, Mapping):
        aliases = {}
    return {
        "items": surface_of(impl.obj, [n for n in NAMES if impl.has(n)]),
        "aliases": {str(k): str(v) for k, v in aliases.items()},
    }


def summarize(implementations: list[dict[str, Any]], exercised: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """impl -> ``{"items", "covered", "uncovered", "exempt"}`` for the implementations whose surface is known
    (an xdist run whose workers all died sends none)."""
    out: dict[str, dict[str, Any]] = {}
    for impl in implementations:
        surface = impl.get("surface")
        if not surface:
            continue
        result = coverage(
            surface["items"], exercised=exercised.get(impl["name"], ()), aliases=surface.get("aliases", {})
        )
        out[impl["name"]] = result.as_dict()
    return out


def terminal_lines(summary: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """One line per implementation, then its uncovered items, then its exempt ones (names only)."""
    lines = []
    for name, s in summary.items():
        uncovered, exempt = s["uncovered"], s["exempt"]
        head = f"{name}: {len(s['items'])} items, {s['covered']} exercised"
        head += f", {len(exempt)} exempt" if exempt else ""
        head += f"; uncovered ({len(uncovered)}):" if uncovered else "; uncovered surface: none"
        lines.append(head)
        lines += [f"  {item}" for item in uncovered]
        if exempt:
            lines.append(f"  exempt (see report): {', '.join(exempt)}")
    return lines
