"""Pages people look at: ``report.html`` for a run, ``sweep.html`` for a sweep, and the grid as an SVG picture.

Each page is one self-contained file (inline CSS and a few lines of plain JavaScript; no network, no CDN), made
from the same plain data as the machine-readable files beside it -- :func:`report_page` from the report
``report.json`` holds (:func:`layer_conformance.formats.report.build_report`), :func:`sweep_page` and
:func:`sweep_picture` from the summary ``sweep.json`` holds (:func:`layer_conformance.tools.history.summary`),
:func:`grid_picture` from any rows of outcomes.  Every outcome has a colour and a symbol (:data:`STYLE`), so the
pages and the pictures read in greyscale; without JavaScript every part of a page is there (the filters only
hide).  This module imports nothing but the standard library.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

__all__ = ["STYLE", "grid_picture", "report_page", "sweep_page", "sweep_picture"]

#: outcome -> (symbol, background colour, text colour, what it means)
STYLE: dict[str, tuple[str, str, str, str]] = {
    "passed": ("✓", "#2e7d32", "#ffffff", "the documented behaviour holds"),
    "failed": ("✗", "#c62828", "#ffffff", "departs from the documented behaviour"),
    "error": ("E", "#6a1b1b", "#ffffff", "the test's setup or teardown failed"),
    "crashed": ("C", "#4a148c", "#ffffff", "the worker running it died"),
    "xfailed": ("x", "#ef6c00", "#000000", "a known bug, recorded with its repro"),
    "differs": ("≠", "#1565c0", "#ffffff", "a rule the implementation declares it does differently"),
    "stale": ("S", "#fdd835", "#000000", "an expected failure or declared difference that passed"),
    "missing": ("–", "#9e9e9e", "#000000", "the implementation has no counterpart"),
    "skipped": ("s", "#d6d6d6", "#000000", "skipped"),
    "-": ("·", "#ffffff", "#7a7a7a", "not run in this target"),
}
#: The outcomes a result can have (every one of :data:`STYLE` but a sweep's "not run"), in the order pages list them.
_OUTCOMES = tuple(o for o in STYLE if o != "-")
#: What a sweep cell of an outcome not in :data:`STYLE` looks like.
_UNKNOWN = ("?", "#ffffff", "#000000", "unknown outcome")
_PROBLEMS = ("failed", "error", "crashed", "stale")

_CSS = """
:root{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;color:#111;background:#fff}
body{margin:1.5rem;max-width:80rem}
h1{font-size:1.5rem;margin:0 0 .4rem}h2{font-size:1.15rem;margin:1.6rem 0 .5rem}
.meta{color:#444;margin:.2rem 0}
.status{font-weight:600;padding:.5rem .7rem;border-left:.35rem solid #444;background:#f3f3f3}
.status.bad{border-color:#c62828}.status.good{border-color:#2e7d32}
table{border-collapse:collapse;margin:.4rem 0}
th,td{border:1px solid #ccc;padding:.2rem .4rem;text-align:left;vertical-align:top}
.grid td{min-width:4rem}
.cell{display:inline-block;width:1.35rem;height:1.35rem;line-height:1.35rem;margin:1px;text-align:center;
font-size:.85rem;font-weight:700;text-decoration:none;border-radius:2px}
.cell:focus,.cell:hover{outline:2px solid #000;outline-offset:1px}
.legend{display:flex;flex-wrap:wrap;gap:.4rem 1.2rem;padding:0;list-style:none}
.legend li{display:flex;align-items:center;gap:.35rem}
details.result{border:1px solid #ddd;margin:.3rem 0;padding:.3rem .6rem}
details.result:target,details.result.shown{outline:3px solid #000}
details.result summary{cursor:pointer}
pre{white-space:pre-wrap;word-break:break-word;background:#f6f6f6;padding:.4rem;margin:.2rem 0;max-height:24rem;overflow:auto}
dt{font-weight:600;margin-top:.3rem}dd{margin-left:1rem}dd.law{white-space:pre-line}
#filters{margin:.5rem 0;padding:.4rem .6rem;border:1px solid #ddd}
#filters label{margin-right:.8rem;white-space:nowrap}
.sweep th.key{font-family:ui-monospace,monospace;font-size:.8rem;white-space:nowrap}
.sweep td.o{width:1.3rem;min-width:1.3rem;padding:0;text-align:center;font-weight:700;font-size:.8rem}
.sweep td.edge{border-left:3px solid #000}
.sweep th.run{writing-mode:vertical-rl;transform:rotate(180deg);font-size:.75rem;padding:.3rem .1rem}
[hidden]{display:none!important}
"""

_SCRIPT = """
(function(){
  var form=document.getElementById('filters');
  if(!form){return;}
  form.hidden=false;
  function apply(){
    var shown={};
    form.querySelectorAll('input[name=outcome]').forEach(function(c){shown[c.value]=c.checked;});
    var q=(document.getElementById('q').value||'').toLowerCase();
    var changing=document.getElementById('changing');
    var only=changing!==null&&changing.checked;
    document.querySelectorAll('[data-outcome]').forEach(function(el){
      var text=(el.getAttribute('data-text')||'').toLowerCase();
      el.hidden=!(shown[el.getAttribute('data-outcome')]!==false&&(!q||text.indexOf(q)>=0));
    });
    document.querySelectorAll('[data-row]').forEach(function(row){
      row.hidden=row.querySelector('[data-outcome]:not([hidden])')===null||
        (only&&row.getAttribute('data-interesting')!=='1');
    });
  }
  form.addEventListener('input',apply);
  form.addEventListener('change',apply);
  document.querySelectorAll('a.cell').forEach(function(a){
    a.addEventListener('click',function(){
      var d=document.getElementById(a.getAttribute('href').slice(1));
      if(d){d.hidden=false;d.open=true;document.querySelectorAll('.shown').forEach(function(s){s.classList.remove('shown');});d.classList.add('shown');}
    });
  });
})();
"""


def _style(outcome: str) -> tuple[str, str, str, str]:
    return STYLE.get(outcome, _UNKNOWN)


def _classes() -> str:
    """One CSS class per outcome: its colours."""
    rules = []
    for outcome, (_, background, text, _) in STYLE.items():
        rules.append(f".o-{_css_name(outcome)}{{background:{background};color:{text}}}")
    return "\n".join(rules)


def _css_name(outcome: str) -> str:
    return "none" if outcome == "-" else outcome if outcome in STYLE else "unknown"


def _page(title: str, body: list[str]) -> str:
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(title)}</title>",
            f"<style>{_CSS}{_classes()}</style>",
            "</head>",
            "<body>",
            *body,
            f"<script>{_SCRIPT}</script>",
            "</body>",
            "</html>",
            "",
        ]
    )


def _legend(counts: Mapping[str, int] | None, outcomes: Sequence[str]) -> list[str]:
    lines = ['<ul class="legend" aria-label="outcomes">']
    for outcome in outcomes:
        symbol, _, _, meaning = _style(outcome)
        count = f" ({counts.get(outcome, 0)})" if counts is not None else ""
        lines.append(
            f'<li><span class="cell o-{_css_name(outcome)}" aria-hidden="true">{escape(symbol)}</span>'
            f"<span><b>{escape(outcome if outcome != '-' else 'not run')}</b>{count}: {escape(meaning)}</span></li>"
        )
    return [*lines, "</ul>"]


def _filters(outcomes: Sequence[str], what: str, changing: bool = False) -> list[str]:
    """The filter form: hidden until the script shows it (without JavaScript everything is shown); ``changing``:
    a box that keeps only the rows that change or fail."""
    boxes = "".join(
        f'<label><input type="checkbox" name="outcome" value="{escape(o)}" checked> '
        f"{escape(_style(o)[0])} {escape(o)}</label>"
        for o in outcomes
    )
    return [
        '<form id="filters" hidden onsubmit="return false">',
        f"<div>Show: {boxes}</div>",
        f'<div><label>{escape(what)} contains <input id="q" type="search" autocomplete="off"></label>'
        + (
            ' <label><input type="checkbox" id="changing"> only the rows that change or fail</label>'
            if changing
            else ""
        )
        + "</div>",
        "</form>",
        "<noscript><p>Filtering needs JavaScript; every result is shown.</p></noscript>",
    ]


# --------------------------------------------------------------------------- a run: report.html


def _status(report: Mapping[str, Any]) -> tuple[str, str]:
    """(sentence, class) saying what the run amounts to, the cases nobody should have to infer first."""
    results = report.get("results") or []
    counts = Counter(r.get("outcome") for r in results)
    if not results:
        return (
            "This run has no results: no property was selected or collected (check the -k / -m selection and "
            "that the implementation loaded).",
            "bad",
        )
    parts = ", ".join(f"{counts[o]} {o}" for o in STYLE if counts.get(o))
    if counts.get("crashed"):
        return f"{len(results)} results: {parts}. A worker died while running {counts['crashed']} of them.", "bad"
    if counts.get("missing", 0) + counts.get("skipped", 0) == len(results):
        return (
            f"{len(results)} results, every one missing or skipped: the implementation has none of the names these "
            "properties need (the reasons are below); nothing was judged.",
            "bad",
        )
    if any(counts.get(o) for o in _PROBLEMS):
        return f"{len(results)} results: {parts}.", "bad"
    return f"{len(results)} results: {parts}. Nothing departs from the documented behaviour but what is recorded.", (
        "good"
    )


def _text(result: Mapping[str, Any]) -> str:
    return " ".join([result.get("key", ""), result.get("impl", ""), *(result.get("apis") or [])])


def _row_name(result: Mapping[str, Any]) -> str:
    return (result.get("apis") or ["(none)"])[0]


def _detail(index: int, r: Mapping[str, Any]) -> list[str]:
    outcome = str(r.get("outcome"))
    symbol = _style(outcome)[0]
    opened = " open" if outcome in _PROBLEMS else ""
    lines = [
        f'<details class="result" id="r-{index}"{opened} data-outcome="{escape(outcome)}" '
        f'data-text="{escape(_text(r))}">',
        f'<summary><span class="cell o-{_css_name(outcome)}" aria-hidden="true">{escape(symbol)}</span> '
        f"<b>{escape(outcome)}</b> <code>{escape(str(r.get('impl')))}</code> <code>{escape(str(r.get('key')))}</code>"
        "</summary>",
        "<dl>",
    ]

    def item(term: str, value: str, pre: bool = False, kind: str = "") -> None:
        if value:
            opened = f'<dd class="{kind}">' if kind else "<dd>"
            text = f"<pre>{escape(value)}</pre>" if pre else escape(value)
            lines.append(f"<dt>{escape(term)}</dt>{opened}{text}</dd>")

    item("Contract names", ", ".join(r.get("apis") or []))
    item("The documented behaviour it checks", str(r.get("law") or ""), kind="law")
    item("Failure" if outcome in _PROBLEMS else "Message", str(r.get("message") or ""), pre=True)
    item("Note", str(r.get("reason") or ""))
    item("Matched entries", str(r.get("xfail") or ""))
    item("An entry describing this failure outside its versions", str(r.get("xfail_outside") or ""))
    if r.get("example"):
        item("The minimal example", json.dumps(r["example"], indent=1, sort_keys=True), pre=True)
    if r.get("repro"):
        name = escape(str(r["repro"]))
        lines.append(
            f'<dt>Repro</dt><dd><a class="repro" href="{name}">{name}</a>: <code>python {name}</code> '
            "(beside this page; exit status 1 when the failure reproduces)</dd>"
        )
    if r.get("unsupported"):
        item("Left unjudged", "; ".join(f"{k}: {v}" for k, v in r["unsupported"].items()))
    ran = r.get("examples")
    item("Run", f"{ran} examples, {float(r.get('duration') or 0):.2f} s" if ran is not None else "")
    item("Test", str(r.get("nodeid") or ""))
    return [*lines, "</dl>", "</details>"]


def report_page(report: Mapping[str, Any]) -> str:
    """``report.html``: status, legend and counts, the matrix (contract name x implementation) with one cell per
    result, each a link to its details (the documented behaviour, the failure, the note, the minimal example
    and the repro script), filters by outcome and text."""
    results = list(report.get("results") or [])
    impls = [str(i.get("name")) for i in report.get("implementations") or []]
    for r in results:
        if r.get("impl") not in impls:
            impls.append(str(r.get("impl")))
    versions = report.get("versions") or {}
    hypothesis = report.get("hypothesis") or {}
    status, kind = _status(report)
    counts = Counter(str(r.get("outcome")) for r in results)
    outcomes = list(_OUTCOMES)
    title = "Conformance report: " + (", ".join(impls) or "no implementation")
    body = [
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">torch {escape(str(versions.get("torch")))}, transformers '
        f"{escape(str(versions.get('transformers') or '-'))}, layer-conformance "
        f"{escape(str(versions.get('layer_conformance')))}; device {escape(str(report.get('device')))}; "
        f"{escape(str(report.get('platform', '')))}; created {escape(str(report.get('created', '')))}.</p>",
        f'<p class="meta">Hypothesis profile {escape(str(hypothesis.get("profile")))} (max_examples '
        f"{escape(str(hypothesis.get('max_examples')))}, derandomize {escape(str(hypothesis.get('derandomize')))}, "
        f"seed {escape(str(hypothesis.get('seed')))}); attention backends "
        f"{escape(', '.join((report.get('attention_backends') or {}).get('selected') or []) or '-')}.</p>",
        f'<p class="status {kind}" role="status">{escape(status)}</p>',
        "<h2>Outcomes</h2>",
        *_legend(counts, outcomes),
    ]
    body += _implementations(report, results)
    body += ["<h2>Matrix</h2>"]
    if results:
        body += _filters(outcomes, "Name, key or implementation")
        body += _grid(results, impls)
        body += ["<h2>Results</h2>", '<p class="meta">Failures are open; click a cell or a line to open it.</p>']
        order = sorted(range(len(results)), key=lambda i: (_row_name(results[i]), results[i].get("impl", ""), i))
        for index in order:
            body += _detail(index, results[index])
    else:
        body.append("<p>No results to show.</p>")
    return _page(title, body)


def _implementations(report: Mapping[str, Any], results: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = [
        "<h2>Implementations</h2>",
        "<table><thead><tr><th>implementation</th><th>version</th><th>origin</th>"
        + "".join(f'<th title="{escape(o)}">{escape(_style(o)[0])} {escape(o)}</th>' for o in _OUTCOMES)
        + "</tr></thead><tbody>",
    ]
    per = defaultdict(Counter)
    for r in results:
        per[r.get("impl")][r.get("outcome")] += 1
    for impl in report.get("implementations") or []:
        name = impl.get("name")
        cells = "".join(f"<td>{per[name].get(o, 0) or ''}</td>" for o in _OUTCOMES)
        lines.append(
            f"<tr><td>{escape(str(name))}</td><td>{escape(str(impl.get('version') or '?'))}</td>"
            f"<td><code>{escape(str(impl.get('origin') or ''))}</code></td>{cells}</tr>"
        )
    lines.append("</tbody></table>")
    for impl in report.get("implementations") or []:
        if not impl.get("missing"):
            continue
        reasons = impl.get("missing_reasons") or {}
        by_reason: dict[str, list[str]] = defaultdict(list)
        for name in impl["missing"]:
            by_reason[reasons.get(name, "no reason given")].append(name)
        lines.append(f"<p><b>{escape(str(impl.get('name')))}</b> lacks {len(impl['missing'])} names:</p><ul>")
        lines += [f"<li>{escape(', '.join(names))}: {escape(why)}</li>" for why, names in by_reason.items()]
        lines.append("</ul>")
    return lines


def _grid(results: Sequence[Mapping[str, Any]], impls: Sequence[str]) -> list[str]:
    rows: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for index, r in enumerate(results):
        rows[_row_name(r)][str(r.get("impl"))].append(index)
    lines = [
        '<table class="grid"><thead><tr><th scope="col">contract name</th>'
        + "".join(f'<th scope="col">{escape(i)}</th>' for i in impls)
        + "</tr></thead><tbody>"
    ]
    for name in sorted(rows):
        cells = []
        for impl in impls:
            links = []
            for index in sorted(rows[name].get(impl, []), key=lambda i: results[i].get("key", "")):
                r = results[index]
                outcome = str(r.get("outcome"))
                tip = escape(f"{outcome}: {r.get('key')}")
                links.append(
                    f'<a class="cell o-{_css_name(outcome)}" href="#r-{index}" data-outcome="{escape(outcome)}" '
                    f'data-text="{escape(_text(r))}" title="{tip}">'
                    f"{escape(_style(outcome)[0])}</a>"
                )
            cells.append(f"<td>{''.join(links)}</td>")
        lines.append(f'<tr data-row><th scope="row">{escape(name)}</th>{"".join(cells)}</tr>')
    return [*lines, "</tbody></table>"]


# --------------------------------------------------------------------------- a sweep: sweep.html and its picture


def _series(data: Mapping[str, Any]) -> bool:
    """Whether the targets are a series (releases of one library, in order): only then is a change between
    neighbours an edge worth drawing."""
    return all((run.get("kind") or "release") == "release" for run in data.get("runs") or [])


def _sweep_rows(data: Mapping[str, Any]) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """(column names, [(key, outcome per run)]) of a sweep summary."""
    runs = data.get("runs") or []
    names = [str(run.get("name") or run.get("label")) for run in runs]
    rows = []
    for key, entry in sorted((data.get("results") or {}).items()):
        outcomes = ["-"] * len(runs)
        for first, last, outcome, _ in entry.get("segments") or []:
            for i in range(int(first), int(last) + 1):
                if 0 <= i < len(outcomes):
                    outcomes[i] = str(outcome)
        rows.append((key, outcomes))
    return names, rows


def _interesting(outcomes: Sequence[str]) -> bool:
    """A row worth a picture: its outcome changes between targets, or is not a pass (or missing) everywhere."""
    ran = [o for o in outcomes if o != "-"]
    return len(set(ran)) > 1 or bool(ran and ran[0] not in ("passed", "missing", "skipped"))


def sweep_page(data: Mapping[str, Any], picture: str = "") -> str:
    """``sweep.html``: the property x target grid (a change between consecutive targets drawn as an edge), each
    recorded bug with the range the runs give (first bad, first fixed), the runs; ``picture``: the file name of
    the grid's picture beside the page, linked when given."""
    names, rows = _sweep_rows(data)
    runs = data.get("runs") or []
    outcomes = [o for o in STYLE if any(o in row for _, row in rows)]
    changing = sum(1 for _, row in rows if len({o for o in row if o != "-"}) > 1)
    title = "Conformance sweep: " + (f"{names[0]} to {names[-1]}" if names else "no targets")
    status = (
        f"{len(runs)} targets, {len(rows)} properties; {changing} change outcome between targets."
        if rows
        else "This sweep has no results: no target produced a report."
    )
    failed_runs = [run for run in runs if run.get("error")]
    body = [
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">Made by <code>{escape(" ".join(data.get("command") or []))}</code>; created '
        f"{escape(str(data.get('created', '')))}.</p>",
        f'<p class="status {"bad" if failed_runs or not rows else "good"}" role="status">{escape(status)}'
        + (escape(f" {len(failed_runs)} targets did not run.") if failed_runs else "")
        + "</p>",
        "<h2>Outcomes</h2>",
        *_legend(None, outcomes),
    ]
    if picture:
        body.append(f'<p><a href="{escape(picture)}">The grid as a picture</a> (rows that change or fail).</p>')
    body += ["<h2>Grid</h2>"]
    if rows:
        body += _filters(outcomes, "Property", changing=True)
        if _series(data):
            body.append('<p class="meta">A thick left border marks a change from the release before.</p>')
        body += _sweep_grid(names, rows, edges=_series(data))
    body += _sweep_bugs(data, names)
    body += _sweep_runs(runs)
    return _page(title, body)


def _sweep_grid(names: Sequence[str], rows: Sequence[tuple[str, list[str]]], edges: bool = True) -> list[str]:
    lines = [
        '<table class="sweep"><thead><tr><th scope="col">property</th>'
        + "".join(f'<th scope="col" class="run">{escape(n)}</th>' for n in names)
        + "</tr></thead><tbody>"
    ]
    for key, outcomes in rows:
        cells = []
        for i, outcome in enumerate(outcomes):
            edge = " edge" if edges and i and outcome != outcomes[i - 1] else ""
            tip = escape(f"{names[i]}: {outcome}")
            cells.append(
                f'<td class="o o-{_css_name(outcome)}{edge}" data-outcome="{escape(outcome)}" '
                f'data-text="{escape(key)}" title="{tip}">{escape(_style(outcome)[0])}</td>'
            )
        interesting = "1" if _interesting(outcomes) else "0"
        lines.append(
            f'<tr data-row data-interesting="{interesting}"><th scope="row" class="key">{escape(key)}</th>'
            f"{''.join(cells)}</tr>"
        )
    return [*lines, "</tbody></table>"]


def _sweep_bugs(data: Mapping[str, Any], names: Sequence[str]) -> list[str]:
    checks = data.get("xfails") or []
    if not checks:
        return []
    lines = [
        "<h2>Recorded bugs and their ranges</h2>",
        "<table><thead><tr><th>entry</th><th>bug</th><th>versions</th><th>first bad</th><th>first fixed</th>"
        "<th>the runs say</th></tr></thead><tbody>",
    ]
    for check in checks:
        statuses = check.get("statuses") or []
        bad = [i for i, s in enumerate(statuses) if s == "bad"]
        first_bad = names[bad[0]] if bad and bad[0] < len(names) else "-"
        fixed = next((i for i, s in enumerate(statuses) if bad and i > bad[-1] and s == "good"), None)
        first_fixed = names[fixed] if fixed is not None and fixed < len(names) else "-"
        lines.append(
            f"<tr><td><code>{escape(str(check.get('source')))}</code></td>"
            f"<td>{escape(str(check.get('reason_text') or ''))}</td>"
            f"<td>{escape(str(check.get('versions') or 'every version'))}</td>"
            f"<td>{escape(first_bad)}</td><td>{escape(first_fixed)}</td>"
            f"<td>{escape(str(check.get('verdict')))}</td></tr>"
        )
    return [*lines, "</tbody></table>"]


def _sweep_runs(runs: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = [
        "<h2>Targets</h2>",
        "<table><thead><tr><th>target</th><th>version</th><th>torch</th><th>counts</th><th>environment</th>"
        "<th>suite</th></tr></thead><tbody>",
    ]
    for run in runs:
        counts = run.get("counts") or {}
        text = ", ".join(f"{counts[o]} {o}" for o in STYLE if counts.get(o)) or f"did not run: {run.get('error')}"
        lines.append(
            f"<tr><td>{escape(str(run.get('name') or run.get('label')))}</td><td>{escape(str(run.get('version')))}"
            f"</td><td>{escape(str((run.get('versions') or {}).get('torch') or '-'))}</td><td>{escape(text)}</td>"
            f"<td>{float(run.get('env_seconds') or 0):.0f} s ({escape(str(run.get('env') or '-'))})</td>"
            f"<td>{float(run.get('suite_seconds') or 0):.0f} s</td></tr>"
        )
    return [*lines, "</tbody></table>"]


def sweep_picture(data: Mapping[str, Any]) -> str:
    """The sweep's grid as an SVG picture: the properties that change between targets or do not pass everywhere
    (the others are counted in the caption), one column per target."""
    names, rows = _sweep_rows(data)
    shown = [(key, outcomes) for key, outcomes in rows if _interesting(outcomes)]
    quiet = len(rows) - len(shown)
    caption = f"{len(shown)} properties that change or do not pass; {quiet} more have one outcome in every target"
    return grid_picture(names, shown, caption=caption, edges=_series(data))


def grid_picture(
    columns: Sequence[str],
    rows: Sequence[tuple[str, Sequence[str]]],
    caption: str = "",
    style: Mapping[str, tuple[str, str, str, str]] | None = None,
    names: Mapping[str, str] | None = None,
    edges: bool = True,
) -> str:
    """An SVG grid: one row per ``(label, outcome per column)``, each cell its outcome's colour and symbol
    (``style``, by default :data:`STYLE`), a thick mark where a row changes from the column before (``edges``:
    columns that are a series, releases), the legend below (each outcome under its name in ``names``, by default
    its own)."""
    style = style or STYLE
    names = names or {}
    cell, label_width = 16, min(560, 8 + 6 * max((len(label) for label, _ in rows), default=10))
    header = 8 + 6 * max((len(c) for c in columns), default=4)
    width = max(label_width + cell * max(1, len(columns)) + 16, 360)
    legend, x, line = [], 4, 0
    for outcome in [o for o in style if any(o in row for _, row in rows)]:
        word = names.get(outcome, outcome if outcome != "-" else "not run")
        if x + 24 + 7 * len(word) > width:
            x, line = 4, line + 1
        legend.append((outcome, word, x, line))
        x += 26 + 7 * len(word)
    height = header + cell * len(rows) + 28 + 18 * (line + 1) + (18 if caption else 0)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'font-family="DejaVu Sans, Verdana, sans-serif" role="img">',
        f"<title>{escape(caption or 'conformance grid')}</title>",
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    for j, name in enumerate(columns):
        x = label_width + j * cell + cell / 2 + 4
        out.append(
            f'<text x="{x}" y="{header - 4}" font-size="10" transform="rotate(-90 {x} {header - 4})">{escape(name)}</text>'
        )
    for i, (label, outcomes) in enumerate(rows):
        y = header + i * cell
        shown = label if len(label) * 6 <= label_width - 8 else label[: (label_width - 8) // 6 - 1] + "…"
        out.append(f'<text x="4" y="{y + cell - 4}" font-size="10">{escape(shown)}</text>')
        for j, outcome in enumerate(outcomes):
            symbol, background, text, _ = style.get(outcome, _UNKNOWN)
            x = label_width + j * cell
            out.append(
                f'<rect x="{x}" y="{y}" width="{cell - 1}" height="{cell - 1}" fill="{background}" stroke="#bbbbbb" '
                'stroke-width="0.5"/>'
            )
            out.append(
                f'<text x="{x + (cell - 1) / 2}" y="{y + cell - 4}" font-size="10" text-anchor="middle" '
                f'fill="{text}">{escape(symbol)}</text>'
            )
            if edges and j and outcome != outcomes[j - 1]:
                out.append(f'<rect x="{x - 1}" y="{y}" width="2" height="{cell - 1}" fill="#000000"/>')
    y = header + cell * len(rows) + 18
    if caption:
        out.append(f'<text x="4" y="{y}" font-size="11">{escape(caption)}</text>')
        y += 18
    for outcome, word, x, line in legend:
        symbol, background, text, _ = style.get(outcome, _UNKNOWN)
        at = y + 18 * line
        out.append(f'<rect x="{x}" y="{at - 11}" width="14" height="14" fill="{background}" stroke="#888888"/>')
        out.append(
            f'<text x="{x + 7}" y="{at}" font-size="10" text-anchor="middle" fill="{text}">{escape(symbol)}</text>'
        )
        out.append(f'<text x="{x + 18}" y="{at}" font-size="10">{escape(word)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
