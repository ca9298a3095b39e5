"""What changed across releases: histories, the release where each change happened, and xfail ranges.

The input is one conformance report per release (``report.json``, in release
order; :mod:`layer_conformance.tools.sweep` writes them).  From them:

* :func:`histories` -- for every property, its outcome release by release,
  folded into segments of equal outcome (:class:`Segment`);
  :func:`describe` says it in words: ``passed 4.53.3-4.57.6, xfailed
  5.0.0-5.12.1, passed from 5.13.1``: each segment after the first starts at
  the first release (of the list) where the outcome changed;
* :func:`check_xfails` -- every expected-failure line against the releases:
  where its tests fail with the failure it describes (``bad``), where they
  pass (``good``), where they did not run (``-``); the line's version range
  must contain exactly the ``bad`` releases.  A line that applies where its
  tests pass has a *stale* (over-broad) range; a line whose failure shows up
  outside its range has a *narrow* one.  Each check suggests the range the
  releases give: first bad release included, first fixed excluded, written
  as ``major.minor`` where the release before it in the list is of another
  minor release;
* :func:`summary` / :func:`markdown` -- the sweep as plain data
  (``layer-conformance-sweep/1``) and as the published matrix.

The xfail check reads the ``Type: first line`` message each report keeps: a
line's exception types are compared with that type's name, its regular
expression is searched in that line.  This module imports no torch.
"""

from __future__ import annotations

import datetime
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..formats.keys import test_key
from ..formats.report import OUTCOMES, xfail_sources
from ..formats.xfails import XfailEntry, message_matches

__all__ = [
    "SWEEP_FORMAT",
    "RangeCheck",
    "Run",
    "Segment",
    "check_xfails",
    "changes",
    "describe",
    "histories",
    "markdown",
    "message_matches",
    "releases",
    "suggest_range",
    "summary",
    "table_cell",
]

SWEEP_FORMAT = "layer-conformance-sweep/1"
#: outcomes that make a release's run unclean
UNCLEAN = ("failed", "error", "crashed", "stale")
#: outcomes of a property that ran and failed
FAILING = ("failed", "error", "crashed", "xfailed", "differs")
#: outcomes of a property that ran and passed
PASSING = ("passed", "stale")


@dataclass
class Run:
    """One release (or implementation) of a sweep: its label in the list and its report (None: it did not run)."""

    label: str
    report: dict[str, Any] | None = None
    #: "release" (a transformers release: named by its version), "library" (a library with an adapter, in an
    #: environment of its own: named by its name and version) or "impl" (of this environment: named by its spec)
    kind: str = "release"
    error: str | None = None
    env_seconds: float = 0.0
    suite_seconds: float = 0.0
    env_note: str = ""
    #: the size of the target's environment on disk (0: unknown, or none was made)
    env_bytes: int = 0
    report_path: str | None = None

    @property
    def version(self) -> str:
        """The implementation's version from the report (``5.14.1`` for a release asked for as ``5.14``)."""
        if self.report:
            for impl in self.report.get("implementations", []):
                if impl.get("version"):
                    return str(impl["version"])
        return self.label

    @property
    def name(self) -> str:
        """How the run is named in histories and tables: a release by its version, a library by its name and
        version, an implementation by its spec."""
        if self.kind == "release":
            return self.version
        if self.kind == "library":
            return f"{self.label} {self.version}" if self.report else self.label
        return self.label

    @property
    def impl(self) -> str | None:
        if self.report and self.report.get("implementations"):
            return str(self.report["implementations"][0]["name"])
        return None

    @property
    def results(self) -> list[dict[str, Any]]:
        return list(self.report.get("results", [])) if self.report else []

    def outcomes(self) -> dict[str, str]:
        return {r["key"]: r["outcome"] for r in self.results}

    def counts(self) -> Counter:
        return Counter(r["outcome"] for r in self.results)

    @property
    def clean(self) -> bool:
        return self.report is not None and not any(self.counts().get(o) for o in UNCLEAN)


# --------------------------------------------------------------------------- histories


@dataclass(frozen=True)
class Segment:
    """Releases ``first``..``last`` (indices into the runs) where a property had one outcome ("-": not run)."""

    outcome: str
    first: int
    last: int
    message: str = ""


def histories(runs: Sequence[Run]) -> dict[str, list[Segment]]:
    """property key -> its segments of equal outcome over the runs (in order)."""
    per_run = [{r["key"]: r for r in run.results} for run in runs]
    keys = sorted({k for results in per_run for k in results})
    out: dict[str, list[Segment]] = {}
    for key in keys:
        segments: list[Segment] = []
        for index, results in enumerate(per_run):
            result = results.get(key)
            outcome = result["outcome"] if result else "-"
            message = (result.get("message") or "") if result and outcome in FAILING else ""
            if segments and segments[-1].outcome == outcome:
                segments[-1] = Segment(outcome, segments[-1].first, index, segments[-1].message or message)
            else:
                segments.append(Segment(outcome, index, index, message))
        out[key] = segments
    return out


def describe(segments: Sequence[Segment], labels: Sequence[str]) -> str:
    """``passed 4.53.3-4.57.6, xfailed 5.0.0-5.12.1, passed from 5.13.1`` (``not run`` for "-")."""
    last = len(labels) - 1
    parts = []
    for i, s in enumerate(segments):
        what = "not run" if s.outcome == "-" else s.outcome
        if len(segments) == 1:
            parts.append(f"{what} in every release ({labels[0]}-{labels[last]})")
        elif s.last == last and i > 0:
            parts.append(f"{what} from {labels[s.first]}")
        elif s.first == s.last:
            parts.append(f"{what} in {labels[s.first]}")
        else:
            parts.append(f"{what} {labels[s.first]}-{labels[s.last]}")
    return ", ".join(parts)


def releases(runs: Sequence[Run]) -> list[Run]:
    """The runs that form a series, in which a property's outcome can change from one to the next: releases and
    implementations of one environment, not the libraries a sweep runs beside them (each its own code)."""
    return [run for run in runs if run.kind != "library"]


def changes(runs: Sequence[Run]) -> list[tuple[str, list[Segment]]]:
    """The properties whose outcome changes somewhere in the runs, ordered by the release of their first change."""
    changed = [(k, s) for k, s in histories(runs).items() if len(s) > 1]
    return sorted(changed, key=lambda item: (item[1][1].first, item[0]))


def by_release(runs: Sequence[Run]) -> list[tuple[int, list[tuple[str, str, str]]]]:
    """run index -> the properties whose outcome changed from the run before: (key, before, after)."""
    out: dict[int, list[tuple[str, str, str]]] = {}
    for key, segments in changes(runs):
        for before, after in zip(segments, segments[1:], strict=False):
            out.setdefault(after.first, []).append((key, before.outcome, after.outcome))
    return sorted(out.items())


# --------------------------------------------------------------------------- xfail ranges


@dataclass
class RangeCheck:
    """One xfail line against the releases of a sweep."""

    entry: XfailEntry
    impl: str
    #: per run: "bad" (its tests fail with its failure), "good" (they pass), "-" (none ran)
    statuses: list[str]
    problems: list[str] = field(default_factory=list)
    suggested: str | None = None

    @property
    def verdict(self) -> str:
        if self.problems:
            return "disagrees"
        if all(s == "-" for s in self.statuses):
            return "not exercised"
        return "agrees"


def _minor(version: str) -> tuple[int, ...]:
    from packaging.version import Version

    return Version(version).release[:2]


def _bound(version: str, neighbour: str | None) -> str:
    """``version`` as ``major.minor`` when the neighbouring release in the list is of another minor release."""
    try:
        if neighbour is not None and _minor(version) != _minor(neighbour):
            return ".".join(str(p) for p in _minor(version))
    except Exception:  # an implementation version that is not PEP 440
        pass
    return version


def suggest_range(statuses: Sequence[str], versions: Sequence[str]) -> str | None:
    """The version field the statuses give (``>=first bad,<first fixed``; ``*`` when bad in every release that
    ran; None when the bad releases are not one run of the list or there are none)."""
    ran = [(s, v) for s, v in zip(statuses, versions, strict=True) if s != "-"]
    bad = [i for i, (s, _) in enumerate(ran) if s == "bad"]
    if not bad or bad != list(range(bad[0], bad[-1] + 1)):
        return None
    lower = None if bad[0] == 0 else _bound(ran[bad[0]][1], ran[bad[0] - 1][1])
    upper = None if bad[-1] == len(ran) - 1 else _bound(ran[bad[-1] + 1][1], ran[bad[-1]][1])
    parts = ([f">={lower}"] if lower else []) + ([f"<{upper}"] if upper else [])
    return ",".join(parts) or "*"


def _shows(entry: XfailEntry, result: dict[str, Any]) -> bool:
    """Whether a result shows the failure ``entry`` describes: its first failure is that one, or the entry is
    among those its failures matched (a test with several distinct failures, each described by another line)."""
    if result["outcome"] not in FAILING:
        return False
    matched = result["outcome"] in ("xfailed", "differs") and entry.source in xfail_sources(result)
    return matched or message_matches(entry.failure, result.get("message", ""))


def check_xfails(entries: Iterable[tuple[str, XfailEntry]], runs: Sequence[Run]) -> list[RangeCheck]:
    """Every (implementation, xfail line) against the runs of that implementation."""
    checks = []
    for impl, entry in entries:
        statuses, versions = [], []
        for run in runs:
            versions.append(run.version)
            if run.impl != impl:
                statuses.append("-")
                continue
            covered = [r for r in run.results if entry.covers(test_key(str(r.get("nodeid", ""))))]
            bad = [r for r in covered if _shows(entry, r)]
            good = [r for r in covered if r["outcome"] in PASSING]
            statuses.append("bad" if bad else "good" if good else "-")
        check = RangeCheck(entry, impl, statuses)
        for status, version in zip(statuses, versions, strict=True):
            applies = entry.in_range(version)
            if status == "good" and applies:
                check.problems.append(f"stale in {version} (its tests pass: the range is too broad)")
            elif status == "bad" and not applies:
                check.problems.append(f"fails outside its range in {version} (the range is too narrow)")
        if any(s != "-" for s in statuses):
            suggested = suggest_range(statuses, versions)
            if suggested is None and any(s == "bad" for s in statuses):
                check.problems.append("its tests fail in releases that are not one run of the list")
            check.suggested = suggested
        checks.append(check)
    return checks


def describe_check(check: RangeCheck) -> str:
    e = check.entry
    head = f"{e.source} ({e.versions or 'every version'}): {check.verdict}"
    if check.problems:
        head += ": " + "; ".join(check.problems)
        if check.suggested:
            head += f"; the sweep gives {check.suggested}"
    return head


def update_versions(text: str, fixes: dict[int, str]) -> str:
    """An xfails file's text with the version field of the lines ``fixes`` names (line number -> new field) set;
    ``*`` is written only where a failure field follows, else the field is dropped."""
    lines = text.splitlines(keepends=True)
    for lineno, versions in fixes.items():
        raw = lines[lineno - 1]
        ending = raw[len(raw.rstrip("\r\n")) :]
        fields = raw.rstrip("\r\n").split(" | ")
        if len(fields) == 3:
            fields.append(versions)
        else:
            fields[3] = versions
        if len(fields) == 4 and fields[3] == "*":
            fields.pop()
        lines[lineno - 1] = " | ".join(fields) + ending
    return "".join(lines)


# --------------------------------------------------------------------------- summary and markdown


def summary(runs: Sequence[Run], checks: Sequence[RangeCheck], command: Sequence[str] = ()) -> dict[str, Any]:
    """The sweep as plain data: runs (label, version, counts, times), per property its test key and segments
    (outcome and, for failures, the message), the changes in words, the xfail checks."""
    series = releases(runs)
    labels = [run.name for run in series]
    test_keys: dict[str, str] = {}
    for run in runs:
        for r in run.results:
            test_keys.setdefault(r["key"], test_key(str(r.get("nodeid", ""))))
    return {
        "format": SWEEP_FORMAT,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": list(command),
        "runs": [
            {
                "label": run.label,
                "name": run.name,
                "kind": run.kind,
                "version": run.version,
                "impl": run.impl,
                "report": run.report_path,
                "error": run.error,
                "counts": dict(run.counts()),
                "env_seconds": round(run.env_seconds, 1),
                "suite_seconds": round(run.suite_seconds, 1),
                "env": run.env_note,
                "env_bytes": run.env_bytes,
                "versions": (run.report or {}).get("versions", {}),
                "profile": ((run.report or {}).get("hypothesis") or {}).get("profile"),
                "derandomize": ((run.report or {}).get("hypothesis") or {}).get("derandomize"),
                "device": (run.report or {}).get("device"),
                "attention_backends": ((run.report or {}).get("attention_backends") or {}).get("selected"),
            }
            for run in runs
        ],
        "results": {
            key: {
                "test": test_keys.get(key, key),
                "segments": [[s.first, s.last, s.outcome, s.message] for s in segments],
            }
            for key, segments in histories(runs).items()
        },
        "changes": [{"key": key, "history": describe(segments, labels)} for key, segments in changes(series)],
        "xfails": [
            {
                "source": c.entry.source,
                "impl": c.impl,
                "pattern": c.entry.pattern,
                "versions": c.entry.versions,
                "failure": c.entry.failure,
                "reason_text": c.entry.reason,
                "statuses": c.statuses,
                "verdict": c.verdict,
                "problems": c.problems,
                "suggested": c.suggested,
            }
            for c in checks
        ],
    }


def runs_from_summary(data: dict[str, Any]) -> list[Run]:
    """Runs rebuilt from a saved summary (enough for :func:`check_xfails` and :func:`histories`)."""
    runs = []
    for index, info in enumerate(data["runs"]):
        results = []
        for key, entry in data["results"].items():
            for first, last, outcome, message in entry["segments"]:
                if first <= index <= last and outcome != "-":
                    results.append({"key": key, "nodeid": entry["test"], "outcome": outcome, "message": message})
        impls = [{"name": info.get("impl"), "version": info.get("version")}]
        report = {"implementations": impls, "results": results}
        runs.append(Run(label=info["label"], report=report, kind=info.get("kind", "release")))
    return runs


_ISSUE = re.compile(r"(?:huggingface/transformers)?#(\d{4,6})")


def _upstream(text: str) -> str:
    refs = dict.fromkeys(_ISSUE.findall(text))
    return ", ".join(f"[#{n}](https://github.com/huggingface/transformers/issues/{n})" for n in refs) or "-"


def table_cell(text: str) -> str:
    """Text made safe for one cell of a Markdown table."""
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(data: dict[str, Any], surface_section: Sequence[str] = (), regenerate: str = "", picture: str = "") -> str:
    """The published cross-version matrix from a sweep summary (and, optionally, its surface section); ``picture``:
    the file name of the grid's picture beside it (:func:`layer_conformance.formats.html.sweep_picture`), shown
    first, and of its page (the same name, ``.html``)."""
    runs = data["runs"]
    labels = [r.get("name") or r["version"] for r in runs]
    first = next((r for r in runs if r.get("versions")), runs[0] if runs else {})
    torch = (first.get("versions") or {}).get("torch", "?")
    profile = first.get("profile") or "?"
    backends = ", ".join(first.get("attention_backends") or []) or "?"
    releases = all(r.get("kind", "release") == "release" for r in runs)
    device = str(first.get("device") or "cpu")
    device = "CPU" if device == "cpu" else device
    drawn = (
        "derandomized: the same examples in every release"
        if first.get("derandomize") is not False  # sweeps always run derandomized (older summaries say nothing)
        else "random: every run draws its own examples"
    )
    lines = ["# Cross-version conformance matrix", ""]
    lines.append(
        f"The suite on {len(runs)} {'releases' if releases else 'runs'} ({labels[0] if labels else '-'} to "
        f"{labels[-1] if labels else '-'}), each in its own environment: {device}, torch {torch}, Hypothesis "
        f"profile `{profile}` ({drawn}), attention backends {backends}."
    )
    if regenerate:
        lines += ["", f"Regenerate: `{regenerate}`."]
    if picture:
        page = picture.rsplit(".", 1)[0] + ".html"
        lines += [
            "",
            f"![Every property that changes between {'releases' if releases else 'runs'} or does not pass, one "
            f"column per {'release' if releases else 'run'}: the outcome's colour and symbol]({picture})",
            "",
            f"The page [`{page}`]({page}) has every property, filters, and the recorded bugs with their ranges.",
        ]
    lines += [
        "",
        "## Releases",
        "",
        "| release | " + " | ".join(OUTCOMES) + " | env | suite |",
        "|---" * (len(OUTCOMES) + 3) + "|",
    ]
    for r in runs:
        counts = r.get("counts") or {}
        cells = [str(counts.get(o, 0)) if counts.get(o) else "" for o in OUTCOMES]
        if r.get("error"):
            cells = [f"did not run: {table_cell(r['error'])}"] + [""] * (len(OUTCOMES) - 1)
        times = f"{r.get('env_seconds', 0):.0f} s ({r.get('env') or '-'})", f"{r.get('suite_seconds', 0):.0f} s"
        lines.append(f"| {r.get('name') or r['version']} | " + " | ".join(cells) + f" | {times[0]} | {times[1]} |")

    lines += [
        "",
        "## Bugs found",
        "",
        "Each expected failure of the bundled xfails file, with the range this sweep found for it (first bad "
        "release included, first fixed excluded) and the upstream issue or fix where known.",
        "",
        "| properties | bug | bad in | first bad | first fixed | upstream |",
        "|---|---|---|---|---|---|",
    ]
    for x in data.get("xfails", []):
        statuses = x["statuses"]
        bad = [i for i, s in enumerate(statuses) if s == "bad"]
        if not bad:
            continue
        fixed = [i for i, s in enumerate(statuses) if s == "good" and i > bad[-1]]
        first_fixed = labels[fixed[0]] if fixed else "not fixed"
        first_bad = labels[bad[0]]
        if bad[0] == 0:
            first_bad += " (the first release swept)"
        elif all(s == "-" for s in statuses[: bad[0]]):
            first_bad += " (the first where its tests ran)"
        ran = sum(s != "-" for s in statuses)
        span = "every release checked" if len(bad) == ran else f"{len(bad)} of {ran} checked"
        reason = _reason_head(x)
        lines.append(
            f"| `{table_cell(x['pattern'])}` | {table_cell(reason)} | {span} | {first_bad} | {first_fixed} | "
            f"{_upstream(x.get('reason_text', ''))} |"
        )
    unexercised = [x for x in data.get("xfails", []) if all(s == "-" for s in x["statuses"])]
    if unexercised:
        lines += ["", "Not exercised by this sweep (their tests did not run): "]
        lines += [f"- `{table_cell(x['pattern'])}` ({x['versions'] or 'every version'})" for x in unexercised]

    lines += [
        "",
        "## Changes between consecutive releases",
        "",
        "Every property whose outcome differs somewhere in the list, in the order of its first change; each "
        "segment after the first starts at the release where the outcome changed.",
        "",
    ]
    lines += [f"- `{c['key']}`: {c['history']}" for c in data.get("changes", [])] or ["none"]

    checks = data.get("xfails", [])
    disagree = [x for x in checks if x["verdict"] == "disagrees"]
    lines += [
        "",
        "## Expected-failure ranges",
        "",
        f"{len(checks)} lines; {sum(x['verdict'] == 'agrees' for x in checks)} agree with the sweep, "
        f"{len(disagree)} disagree, {len(unexercised)} not exercised.",
    ]
    for x in disagree:
        lines.append(f"- `{x['source']}` ({x['versions'] or 'every version'}): {'; '.join(x['problems'])}")
    lines += list(surface_section)
    return "\n".join(lines) + "\n"


def _reason_head(x: dict[str, Any]) -> str:
    """The reason of an xfail line up to its first colon-led explanation, kept short for the table."""
    text = x.get("reason_text") or ""
    return text if len(text) <= 220 else text[:217].rsplit(" ", 1)[0] + "..."


def write_pages(
    matrix: Path, data: dict[str, Any], surface_section: Sequence[str] = (), regenerate: str = "", stem: str = ""
) -> None:
    """The matrix (:func:`markdown`) at ``matrix``, and beside it its picture and its page
    (:func:`layer_conformance.formats.html.sweep_picture`, :func:`~layer_conformance.formats.html.sweep_page`:
    ``<stem>.svg``, ``<stem>.html``, the matrix's own stem by default), the matrix showing the picture."""
    from ..formats.html import sweep_page, sweep_picture

    stem = stem or matrix.stem
    matrix.parent.mkdir(parents=True, exist_ok=True)
    drawn, page = matrix.parent / f"{stem}.svg", matrix.parent / f"{stem}.html"
    drawn.write_text(sweep_picture(data), encoding="utf-8")
    page.write_text(sweep_page(data, picture=drawn.name), encoding="utf-8")
    text = markdown(data, surface_section, regenerate=regenerate, picture=drawn.name)
    matrix.write_text(text, encoding="utf-8")
