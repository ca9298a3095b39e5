"""The parity table of other libraries against the contract (``docs/ecosystem.md``), from a sweep's reports.

``layer-conformance sweep vllm mlx_lm torchtitan megatron torchtune sglang 5.24.0 --parity PATH`` writes it: every
library in its own environment, a transformers release beside them as the baseline.  From each run's report:

* one line per target: its version, its torch (a library may bring its own), its counts, and how long its
  environment took and its size on disk;
* one row per contract name and variant (the parameters of a property's id: a RoPE type, a layout, a
  backend), one column per target; a cell is the verdict of the properties of that row: ``✓ pass`` (every
  one passed), ``✗ bug`` (a failure, or a known bug of the library's xfails file), ``≠ design`` (the rules
  the library declares it does differently, none a bug), ``– missing`` (the library has no counterpart);
  a letter or symbol and a word in every cell, so that it reads without colour;
* each bug, from the xfails line its tests matched, told as its maintainers want it: the library's version,
  what goes wrong, expected against actual, and a repro that imports the library alone;
* each difference the library declares by design, with its own words and where it says so;
* every result of each library, with the entry (xfails line or declared difference) it matched;
* per library, what it has no counterpart for (missing, with the reason) and the examples left unjudged.

Plain JSON in, Markdown out; this module imports no torch.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from ..formats.report import xfail_sources
from ..formats.xfails import XfailEntry, bundled_entries
from .history import Run, table_cell

__all__ = ["markdown", "verdict"]

#: Cell of a row, from the outcomes of its properties: the worst decides.
_VERDICTS = (
    ("failed", "✗ bug"),
    ("error", "✗ bug"),
    ("crashed", "✗ bug"),
    ("xfailed", "✗ bug"),
    ("stale", "✓ pass"),
    ("differs", "≠ design"),
    ("passed", "✓ pass"),
    ("missing", "– missing"),
    ("skipped", "– missing"),
)
_PARAMS = re.compile(r"\[(.*)\]$")
#: The cells of a row some library has something of.
_JUDGED = ("✓ pass", "✗ bug", "≠ design")


def verdict(outcomes: Sequence[str]) -> str:
    """The cell for a row whose properties had these outcomes (empty: not run)."""
    for outcome, cell in _VERDICTS:
        if outcome in outcomes:
            return cell
    return " "


def _row(result: dict[str, Any]) -> tuple[str, str]:
    """(contract name, variant) of a result: its first name, and the parameters of its key."""
    name = (result.get("apis") or ["(none)"])[0]
    match = _PARAMS.search(result["key"])
    return name, match[1] if match else ""


def _title(text: str) -> str:
    """The first clause of a bug's description (up to its first colon or full stop), or of that its first part."""
    head = text.split(": ", 1)[0].split(". ", 1)[0]
    return head if len(head) <= 120 else head.split(", ", 1)[0]


def _column(run: Run) -> str:
    return f"transformers {run.label}" if run.kind == "release" else run.label


def _facts(run: Run) -> dict[str, Any]:
    """The session facts of a run's (one) implementation."""
    return next(iter(run.report.get("implementations") or [{}])) if run.report else {}


def _unjudged(run: Run) -> Counter[str]:
    """Examples the run's implementation left unjudged, per reason."""
    counted: Counter[str] = Counter()
    for r in run.results:
        counted.update(r.get("unsupported") or {})
    return counted


def markdown(
    runs: Sequence[Run], entries: Sequence[tuple[str, XfailEntry]] = (), regenerate: str = "", picture: str = ""
) -> str:
    """The page: the libraries, the parity table, the bugs, the differences by design, what is missing.
    ``entries``: the (implementation, xfails line) pairs the runs used (the sweep's; by default the bundled
    files of the libraries); ``picture``: the file name of the parity grid's picture beside the page
    (:func:`picture`), shown above the table."""
    if not entries:
        entries = [(run.impl or run.label, e) for run in runs for e in bundled_entries(run.impl or run.label)]
    done = [run for run in runs if run.report is not None]
    libraries = [run for run in done if run.kind != "release"]
    lines = [
        *_introduction(regenerate),
        *_targets(runs),
        *_parity(done, libraries, picture),
        *_bugs(libraries, entries),
        *_differences(libraries),
        *_every_result(libraries),
        *_missing(libraries),
    ]
    return "\n".join(lines).rstrip() + "\n"


def _introduction(regenerate: str) -> list[str]:
    lines = ["# Other libraries against the contract", ""]
    lines.append(
        "Each library runs the whole suite in an environment of its own, through an adapter that judges what it "
        "computes through its public outputs (`layer_conformance/adapters/`); a transformers release runs beside "
        "them as the baseline. A cell is the verdict of that row's properties: ✓ pass, ✗ bug (a failure, or a "
        "known bug with its repro below), ≠ design (a rule the library documents doing differently, below), "
        "– missing (no counterpart in the library)."
    )
    if regenerate:
        lines += [
            "",
            f"Regenerate: `{regenerate}` (each environment made with uv, beside the sweep's torch pin unless the "
            "library's recipe brings its own torch, as SGLang's does; pip's `PIP_FIND_LINKS` reaches uv, so a "
            "directory of CPU wheels there keeps CUDA builds out of the pinned ones).",
        ]
    return lines


def _targets(runs: Sequence[Run]) -> list[str]:
    lines = [
        "",
        "## Targets",
        "",
        "| target | version | torch | pass | bug | design | missing | unjudged examples | environment | suite |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        if run.report is None:
            lines.append(f"| {_column(run)} | - | - | did not run: {table_cell(run.error or '?')} | | | | | | |")
            continue
        counts = run.counts()
        bugs = sum(counts.get(o, 0) for o in ("failed", "error", "crashed", "xfailed"))
        lines.append(
            f"| {_column(run)} | {run.version} | {(run.report.get('versions') or {}).get('torch') or '?'} | "
            f"{counts.get('passed', 0)} | {bugs} | {counts.get('differs', 0)} | "
            f"{counts.get('missing', 0) + counts.get('skipped', 0)} | {sum(_unjudged(run).values())} | "
            f"{_environment(run)} | {run.suite_seconds:.0f} s |"
        )
    return lines


def _environment(run: Run) -> str:
    """How long the environment took (``cached``: it was there already) and its size on disk, where known."""
    size = f", {run.env_bytes / 1e9:.1f} GB" if run.env_bytes else ""
    return f"{run.env_seconds:.0f} s ({run.env_note or '-'}){size}"


def _cells(done: Sequence[Run], libraries: Sequence[Run]) -> tuple[dict, list[tuple[str, str]]]:
    """The outcomes of each row per target, and the rows some library has something of."""
    cells: dict[tuple[str, str], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for run in done:
        for r in run.results:
            cells[_row(r)][run.label].append(r["outcome"])
    judged = [row for row, per in cells.items() if any(verdict(per[lib.label]) in _JUDGED for lib in libraries)]
    return cells, sorted(judged)


#: The picture's cell of each verdict: the style of the outcome that stands for it, named as the table names it.
_PICTURE = {"✓ pass": "passed", "✗ bug": "failed", "≠ design": "differs", "– missing": "missing", " ": "-"}


def picture(runs: Sequence[Run]) -> str:
    """The parity grid as an SVG picture: one row per contract name and variant some library has something of,
    one column per target, each cell its verdict's colour and symbol."""
    from ..formats.html import STYLE, grid_picture

    done = [run for run in runs if run.report is not None]
    libraries = [run for run in done if run.kind != "release"]
    cells, judged = _cells(done, libraries)
    rows = [
        (f"{name} [{variant}]" if variant else name, [_PICTURE[verdict(cells[(name, variant)][r.label])] for r in done])
        for name, variant in judged
    ]
    words = {"passed": "pass", "failed": "bug", "differs": "design", "missing": "missing", "-": "not run"}
    style = {outcome: (*STYLE[outcome][:3], words[outcome]) for outcome in words}
    return grid_picture([_column(run) for run in done], rows, style=style, names=words, edges=False)


def _parity(done: Sequence[Run], libraries: Sequence[Run], picture: str = "") -> list[str]:
    cells, judged = _cells(done, libraries)
    lines = [
        "",
        "## Parity",
        "",
        *(
            [f"![The parity grid: one row per contract name and variant, one column per target]({picture})", ""]
            if picture
            else []
        ),
        "Rows a library has something of; the others are listed after the table.",
        "",
        "| contract name | variant | " + " | ".join(_column(run) for run in done) + " |",
        "|---|---|" + "---|" * len(done),
    ]
    for name, variant in judged:
        per = cells[(name, variant)]
        lines.append(f"| `{name}` | {variant or '-'} | " + " | ".join(verdict(per[run.label]) for run in done) + " |")
    absent = sorted({name for name, _ in cells} - {name for name, _ in judged})
    if absent:
        lines += ["", "Missing in every library: " + ", ".join(f"`{n}`" for n in absent) + "."]
    return lines


def _bugs(libraries: Sequence[Run], entries: Sequence[tuple[str, XfailEntry]]) -> list[str]:
    lines = ["", "## Bugs", ""]
    found = False
    for run in libraries:
        lines_of = {e.source: e for impl, e in entries if impl == (run.impl or run.label)}
        # one bug per repro: the lines of one root cause (the properties meeting it in different ways) together
        hit: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for r in run.results:
            for source in xfail_sources(r):
                if source in lines_of and r["outcome"] in ("xfailed", "failed"):
                    hit[lines_of[source].repro][source].append(r["key"])
        failed = [r for r in run.results if r["outcome"] in ("failed", "error", "crashed") and not r.get("xfail")]
        for repro, by_line in hit.items():
            found = True
            sources = sorted(by_line, key=lambda s: int(s.rpartition(":")[2]))
            lines += _bug(run, lines_of[sources[0]], repro, sources, sorted({k for s in sources for k in by_line[s]}))
        for r in failed:
            found = True
            lines += [f"### {run.name}: unrecorded failure of `{r['key']}`", "", f"- {table_cell(r['message'])}", ""]
            if r.get("repro"):
                lines.append(f"- Repro: `{r['repro']}` in its report")
    if not found:
        lines.append("none")
    return lines


def _bug(run: Run, e: XfailEntry, repro: str, sources: Sequence[str], keys: Sequence[str]) -> list[str]:
    """One bug as its maintainers want it: version, what goes wrong, expected vs actual, repro, where seen."""
    what, _, expected = e.reason.partition(" Expected")
    lines = [
        f"### {run.name}: {_title(e.reason)}",
        "",
        f"- **Version**: {run.label} {run.version} (the line applies to `{e.versions or 'every version'}`)",
        f"- **What goes wrong**: {what.strip()}",
    ]
    if expected:
        lines.append(f"- **Expected vs actual**: Expected{expected.rstrip('.')}.")
    return [
        *lines,
        f"- **Repro** (imports the library alone): `{repro}`",
        f"- **Properties that catch it** ({len(keys)}): " + ", ".join(f"`{k}`" for k in keys),
        "- **Recorded in**: " + ", ".join(f"`{s}`" for s in sources),
        "",
    ]


def _differences(libraries: Sequence[Run]) -> list[str]:
    lines = ["", "## Differences by design", ""]
    declared = False
    for run in libraries:
        # the results each declared rule accounts for (alone, or beside a bug of the same property)
        hits = Counter(s for r in run.results if r["outcome"] in ("differs", "xfailed") for s in xfail_sources(r))
        for index, d in enumerate(_facts(run).get("differences") or []):
            declared = True
            n = hits.get(f"{run.label}: DESIGN_DIFFERENCES[{index}]", 0)
            seen = f"{n} result{'s' if n != 1 else ''}" if n else "no result of this run attributed to it"
            lines.append(f"- **{run.name}** ({seen}): {table_cell(d['rule'])}. Source: `{table_cell(d['source'])}`.")
    if not declared:
        lines.append("none")
    return lines


def _every_result(libraries: Sequence[Run]) -> list[str]:
    lines = [
        "",
        "## Every result",
        "",
        "Each property's outcome in each library (the missing ones by reason below).",
        "",
    ]
    for run in libraries:
        judged = sorted((r for r in run.results if r["outcome"] not in ("missing", "skipped")), key=lambda r: r["key"])
        missed = len(run.results) - len(judged)
        lines += [f"<details><summary>{run.name}: {len(judged)} judged, {missed} missing</summary>", ""]
        lines += ["| property | outcome | entry |", "|---|---|---|"]
        for r in judged:
            lines.append(f"| `{table_cell(r['key'])}` | {r['outcome']} | {table_cell(r.get('xfail') or '')} |")
        lines += ["", "</details>", ""]
    return lines


def _missing(libraries: Sequence[Run]) -> list[str]:
    lines = ["", "## Missing, and left unjudged", ""]
    for run in libraries:
        facts = _facts(run)
        reasons: dict[str, list[str]] = defaultdict(list)
        for name in facts.get("missing") or []:
            reasons[(facts.get("missing_reasons") or {}).get(name, "")].append(name)
        lines += [f"**{run.name}**", ""]
        for why, names in sorted(reasons.items()):
            lines.append(f"- missing: {', '.join(f'`{n}`' for n in names)}" + (f" -- {why}" if why else ""))
        for what, n in _unjudged(run).most_common():
            lines.append(f"- unjudged: {n} example{'s' if n != 1 else ''}: {table_cell(what)}")
        lines.append("")
    return lines
