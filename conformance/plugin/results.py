"""Results: every property's outcome, built from the records pytest's reports carry.

:class:`Results` runs where the reports end up: the only process of a serial
run, or the pytest-xdist controller.  It reads nothing but structured data:

* the record of each report (:mod:`layer_conformance.plugin.records`), sent by
  xdist with the report; the phase that decides sets the outcome (an error in
  setup or teardown wins over the call's outcome), observations are merged;
* ``pytest_handlecrashitem``, xdist's hook for a test whose worker died: the
  property becomes ``crashed``, with xdist's message, filed under what its
  setup report said (implementation, key, contract names);
* the run's facts (implementations with origin, version, missing names and
  surface; versions; device; Hypothesis settings): from the running session, or
  from each xdist worker's ``workeroutput`` when it finishes.

At the end it applies the surface check (:mod:`.surface_check`: the surface no
property exercises, from the facts and the records' ``exercised`` items),
then the gate (``--baseline``), writes the report
(``--conformance-report``) and prints the summary.  A serial run killed by a
crash writes nothing: ``-n 1`` or more keeps the run (and the report) alive.
This module imports no torch.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ..formats.keys import result_key, test_key
from ..formats.report import Result, build_report, compact_lines, write_report
from . import options, surface_check
from .gate import compare
from .records import PROPERTY, record_of

__all__ = ["FACTS", "Results"]

#: The key of the run's facts in an xdist worker's ``workeroutput``.
FACTS = PROPERTY + ".facts"


class Results:
    def __init__(
        self,
        config: pytest.Config,
        baseline: dict[str, Any] | None,
        facts: Callable[[], dict[str, Any]] | None,
        fallback_facts: Callable[[], dict[str, Any]],
    ) -> None:
        self.config = config
        self.baseline = baseline
        self._local_facts = facts
        self._fallback_facts = fallback_facts
        self._worker_facts: dict[str, Any] | None = None
        self.results: dict[str, Result] = {}
        self.planned: dict[str, dict[str, Any]] = {}
        self.observed: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        self.exercised: dict[str, set[str]] = defaultdict(set)
        self.comparison: dict[str, Any] | None = None

    # ------------------------------------------------------------------ reading reports

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        record = record_of(report)
        if record is None:
            return
        self.take(report.nodeid, record, report.duration)

    def take(self, nodeid: str, record: dict[str, Any], duration: float) -> None:
        self.planned.setdefault(nodeid, record)
        for what, outcome in record.get("observed", ()):
            self.observed[record["impl"]][what].add(outcome)
        self.exercised[record["impl"]].update(record.get("exercised", ()))
        existing = self.results.get(nodeid)
        if record.get("when") == "call" and existing is not None:
            existing.duration = duration
            existing.examples = record.get("examples")
            existing.regimes = record.get("regimes")
            existing.unsupported = record.get("unsupported")
        if record.get("outcome") is None:
            return
        if existing is not None and existing.outcome == "error":
            return  # an error in setup or teardown decides
        self.results[nodeid] = Result(
            nodeid=nodeid,
            key=record["key"],
            impl=record["impl"],
            apis=list(record.get("apis", [])),
            outcome=record["outcome"],
            reason=record.get("reason", ""),
            message=record.get("message", ""),
            example=record.get("example"),
            duration=duration if record.get("when") == "call" else (existing.duration if existing else 0.0),
            examples=record.get("examples", existing.examples if existing else None),
            xfail=record.get("xfail"),
            xfail_outside=record.get("xfail_outside"),
            regimes=record.get("regimes", existing.regimes if existing else None),
            unsupported=record.get("unsupported", existing.unsupported if existing else None),
            law=record.get("law", existing.law if existing else ""),
        )

    @pytest.hookimpl(optionalhook=True)
    def pytest_handlecrashitem(self, crashitem: str, report: pytest.TestReport, sched: Any) -> None:
        """pytest-xdist: the worker running ``crashitem`` died (its setup report came before)."""
        planned = self.planned.get(crashitem) or self._plan_from_nodeid(crashitem)
        if planned is None:
            return  # not a property
        self.results[crashitem] = Result(
            nodeid=crashitem,
            key=planned["key"],
            impl=planned["impl"],
            apis=list(planned.get("apis", [])),
            outcome="crashed",
            message=str(report.longrepr or "the worker running it crashed").strip().splitlines()[0][:400],
        )

    def _plan_from_nodeid(self, nodeid: str) -> dict[str, Any] | None:
        """Implementation and key of a property that crashed before its setup was reported."""
        for spec in options.impl_specs(self.config):
            key = result_key(nodeid, spec.strip())
            if key != test_key(nodeid):
                return {"impl": spec.strip(), "key": key, "apis": []}
        return None

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """pytest-xdist: a worker finished; it sends the run's facts in its ``workeroutput``."""
        text = getattr(node, "workeroutput", {}).get(FACTS)
        if text and self._worker_facts is None:
            self._worker_facts = json.loads(text)

    # ------------------------------------------------------------------ the end of the run

    def facts(self) -> dict[str, Any]:
        if self._local_facts is not None:
            return self._local_facts()
        return self._worker_facts or self._fallback_facts()

    def surface(self) -> dict[str, dict[str, Any]]:
        """The surface check of every implementation whose surface the facts carry."""
        return surface_check.summarize(self.facts()["implementations"], self.exercised)

    def observed_lists(self) -> dict[str, dict[str, list[str]]]:
        return {impl: {what: sorted(o) for what, o in per.items()} for impl, per in sorted(self.observed.items())}

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        results = list(self.results.values())
        if self.baseline is not None:
            self.comparison = compare(
                self.baseline,
                results,
                path=self.config.getoption("baseline"),
                strict=options.strict_missing(self.config),
            )
            if self.comparison["regressions"] and session.exitstatus == pytest.ExitCode.OK:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED
        directory = self.config.getoption("conformance_report")
        if directory:
            facts = self.facts()
            report = build_report(
                results,
                implementations=facts["implementations"],
                versions=facts["versions"],
                hypothesis=facts["hypothesis"],
                device=facts["device"],
                attention_backends=facts.get("attention_backends"),
                observed=self.observed_lists(),
                baseline=self.comparison,
                surface=self.surface(),
            )
            write_report(report, Path(directory), results)
        stale = [r for r in results if r.outcome == "stale"]
        if stale and options.strict_xfails(self.config) and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
        results = list(self.results.values())
        facts = self.facts()
        if facts["implementations"]:
            terminalreporter.section("layer-conformance: implementations")
            for impl in facts["implementations"]:
                line = f"{impl['name']}: version {impl.get('version') or 'unknown'} from {impl.get('origin')}"
                if impl.get("missing"):
                    line += f"; missing ({len(impl['missing'])}): {', '.join(impl['missing'])}"
                terminalreporter.line(line)
        if results:
            terminalreporter.section("layer-conformance: matrix (API: implementation outcomes)")
            for line in compact_lines(results):
                terminalreporter.line(line)
        crashed = sorted(f"{r.key} ({r.impl}): {r.message}" for r in results if r.outcome == "crashed")
        if crashed:
            terminalreporter.section("layer-conformance: crashed (the process running them died)")
            for line in crashed:
                terminalreporter.line(line)
        stale = sorted(r.key + f" ({r.impl})" for r in results if r.outcome == "stale")
        if stale:
            terminalreporter.section("layer-conformance: stale expected failures (they pass: remove them)")
            for line in stale:
                terminalreporter.line(line)
        checked = self.surface()
        if checked:
            terminalreporter.section("layer-conformance: surface (parameters and registry keys no property exercises)")
            for line in surface_check.terminal_lines(checked):
                terminalreporter.line(line)
        seen = self.observed_lists()
        if seen:
            terminalreporter.section("layer-conformance: observed behaviours")
            for impl, per in seen.items():
                for what, outcomes in per.items():
                    terminalreporter.line(f"{impl}: {what}: {'; '.join(outcomes)}")
        if self.comparison is not None:
            c = self.comparison
            terminalreporter.section(f"layer-conformance: against baseline {c['path']}")
            for title, entries in (
                ("regressions", c["regressions"]),
                ("known regressions (expected failures now)", c["known_regressions"]),
                ("missing now (not regressions unless strict)", c["newly_missing"]),
                ("improvements", c["improvements"]),
            ):
                terminalreporter.line(f"{title}: {len(entries)}")
                for e in entries:
                    terminalreporter.line(f"  {e['key']} ({e['impl']}): {e['before']} -> {e['after']}")
            terminalreporter.line(f"not run now: {c['not_run']}")
        directory = config.getoption("conformance_report")
        if directory:
            terminalreporter.line(f"layer-conformance: report written to {directory}/report.md")
