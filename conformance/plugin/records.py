"""Structured records: what each test report says about a property, as plain data.

Where pytest runs a property (the only process of a serial run, or an xdist
worker), :class:`Recorder` adds one record to every report of it, under the
name :data:`PROPERTY` in ``report.user_properties`` -- the field pytest-xdist
sends to the controller with the report.  A record is a JSON object:

``impl``, ``key``, ``apis``
    the implementation, the implementation-free key of the property
    (``test_masks.py::test_truth_table[causal]``) and the contract names filed
    under (for ``missing``, the missing ones);
``when``
    the phase of the report (``setup``, ``call``, ``teardown``);
``outcome``, ``reason``, ``message``
    what this phase decides (``passed``, ``failed``, ``error``, ``xfailed``,
    ``differs``, ``stale``, ``missing``, ``skipped``; ``null`` when the phase decides nothing),
    why (skip or expected-failure reason) and the first line of the exception;
``examples``
    examples the property ran (calls of its body, shrinking included);
``unsupported``
    ``{"<item> (<why>)": count}``: examples discarded because the
    implementation has no counterpart for an input of theirs
    (:func:`layer_conformance.missing.unsupported`); when every one was, the
    outcome is ``missing``;
``observed``
    ``[behaviour, outcome]`` pairs the property observed
    (:func:`layer_conformance.channel.observe`);
``exercised``
    surface items the property reported running (entries chosen at run time,
    :func:`layer_conformance.channel.exercised`);
``regimes``
    ``{"declared": [...], "reached": [...]}``: the regimes of the input space
    its strategies declared and those its examples reached
    (:mod:`layer_conformance.strategies.regimes`);
``example``
    the failing example as plain data (:mod:`layer_conformance.formats.example`);
``xfail``
    the expected-failure entry (``file:line``, or the declared difference) that
    applied: to an ``xfailed``, ``differs`` or ``stale`` outcome, or to a ``failed`` one whose failure is not the one the
    entry describes (``reason`` then says so);
``xfail_outside``
    for a ``failed`` outcome, an entry for the test whose failure it is but
    whose version range leaves this version out.

``examples``, ``unsupported``, ``observed``, ``exercised``, ``regimes`` and the failing example
are what the per-test channel (:mod:`layer_conformance.channel`) collected while
the property ran, drained once at setup (nothing from an earlier test leaks in)
and once after the call.  Everything else is decided from the item, the call and
the report's own fields (``outcome``, ``when``, ``wasxfail``, the exception
object), never from formatted text; the controller (:mod:`layer_conformance.plugin.results`) only
reads records.  This module imports torch only when it records a failing
example.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import pytest

from .. import channel
from ..formats.report import XFAIL_SEPARATOR
from ..formats.xfails import failure_matches, leaves
from ..missing import Missing
from . import options
from .activation import PACKAGE, PROPERTIES_DIR, RECORD
from .plan import PLAN, Plan

__all__ = ["PROPERTY", "Recorder", "exception_message", "record_of"]

#: The name of the record in ``report.user_properties``.
PROPERTY = RECORD


def exception_message(exc: BaseException, limit: int = 400) -> str:
    """``Type: first line of the message`` of an exception (the first of a group of several)."""
    while getattr(exc, "exceptions", None):  # ExceptionGroup: Hypothesis found several distinct failures
        exc = exc.exceptions[0]  # type: ignore[attr-defined]
    text = str(getattr(exc, "msg", None) or exc) if isinstance(exc, pytest.fail.Exception) else str(exc)
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return f"{type(exc).__name__}: {first}"[:limit] if first else type(exc).__name__


def _skip_message(call: pytest.CallInfo[None]) -> str:
    exc = call.excinfo.value if call.excinfo is not None else None
    return str(getattr(exc, "msg", "") or exc or "")


def match_failures(plan: Plan, exc: BaseException) -> tuple[list[dict[str, Any]], BaseException | None]:
    """The entry describing each failure of ``exc`` (itself, or each of a group: Hypothesis' distinct failures),
    the first of the test's entries that does; and the first failure none describes (None when each is)."""
    matched: list[dict[str, Any]] = []
    for leaf in leaves(exc):
        entry = next((e for e in plan.expected if e["failure"] is None or failure_matches(e["failure"], leaf)), None)
        if entry is None:
            return matched, leaf
        if entry not in matched:
            matched.append(entry)
    return matched, None


#: How much of a property's docstring a record carries.
LAW_LIMIT = 2000


def law(function: Any) -> str:
    """The documented behaviour a property checks: its docstring, its paragraphs kept, cut at :data:`LAW_LIMIT`."""
    text = inspect.cleandoc(getattr(function, "__doc__", None) or "")
    paragraphs = [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]
    joined = "\n\n".join(paragraphs)
    return joined if len(joined) <= LAW_LIMIT else joined[: LAW_LIMIT - 1].rstrip() + "…"


def decide(
    plan: Plan, report: pytest.TestReport, call: pytest.CallInfo[None], matched: list[dict[str, Any]] | None = None
) -> tuple[str | None, str, str]:
    """(outcome, reason, message) that this report's phase decides; ``matched``: the entries describing its
    failures (an expected failure is ``differs`` when each is a difference by design, ``xfailed`` when one is
    a bug)."""
    entries = matched or plan.expected[:1]
    xfail_reason = "; ".join(e["reason"] for e in entries) if entries else str(getattr(report, "wasxfail", ""))
    expected = "differs" if entries and all(e["kind"] == "design" for e in entries) else "xfailed"
    error = exception_message(call.excinfo.value) if call.excinfo is not None else ""
    if report.when == "setup":
        if report.skipped:
            if hasattr(report, "wasxfail"):
                return expected, xfail_reason, ""
            if plan.skip is not None and plan.missing:
                return "missing", plan.skip, ""
            return "skipped", plan.skip or _skip_message(call), ""
        if report.failed:
            return "error", "error in setup", error
        return None, "", ""
    if report.when == "call":
        if report.passed:
            return ("stale", xfail_reason, "") if hasattr(report, "wasxfail") else ("passed", "", "")
        if report.skipped:
            if hasattr(report, "wasxfail"):
                return expected, xfail_reason, error
            if call.excinfo is not None and isinstance(call.excinfo.value, Missing):
                return "missing", _skip_message(call), ""
            return "skipped", _skip_message(call), ""
        if call.excinfo is None and plan.xfail is not None:  # strict xfail that passed: pytest failed it
            return "stale", xfail_reason, ""
        return "failed", "", error
    if report.failed:
        return "error", f"error in {report.when}", error
    return None, "", ""


class Recorder:
    """Adds a record to every report of a planned property (where pytest runs the properties)."""

    def __init__(self, device: str) -> None:
        self.device = device

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        report: pytest.TestReport = yield
        plan = item.stash.get(PLAN, None)
        if plan is None:
            return report
        exc = call.excinfo.value if call.excinfo is not None else None
        if isinstance(exc, Missing) and report.skipped and options.strict_missing(item.config):
            report.outcome = "failed"  # a missing part of a name fails under strictness, like a missing name
            report.longrepr = f"{exc.msg} (strict)"
        if call.when == "setup":  # nothing from an earlier test may leak into this one
            channel.drain()
        sent = channel.drain() if call.when == "call" else None
        matched, unmatched = match_failures(plan, exc) if plan.xfail is not None and exc is not None else ([], None)
        unexpected = self._unexpected_failure(plan, report, unmatched)
        outcome, reason, message = decide(plan, report, call, matched)
        if unexpected:
            reason = unexpected
        if sent is not None and sent.unsupported and _nothing_judged(exc):
            outcome, message = "missing", ""
            reason = f"missing in {plan.impl}, needed by every example: {'; '.join(sorted(sent.unsupported))}"
            if options.strict_missing(item.config):
                report.longrepr = f"{reason} (strict)"
            else:
                report.outcome = "skipped"
                report.longrepr = (str(item.path), (item.location[1] or 0) + 1, f"Skipped: {reason}")
        apis = plan.missing if outcome == "missing" and plan.missing else plan.apis
        record: dict[str, Any] = {
            "impl": plan.impl,
            "key": plan.key,
            "apis": apis,
            "when": call.when,
            "outcome": outcome,
            "reason": reason,
            "message": message,
        }
        if outcome is not None and isinstance(item, pytest.Function):
            record["law"] = law(item.function)
        if plan.xfail is not None and outcome in ("xfailed", "differs", "stale", "failed"):
            record["xfail"] = XFAIL_SEPARATOR.join(e["source"] for e in matched) if matched else plan.xfail["source"]
        if outcome == "failed" and exc is not None and not unexpected:
            outside = [
                e["source"] for e in plan.xfail_elsewhere if e["failure"] is None or failure_matches(e["failure"], exc)
            ]
            if outside:
                record["xfail_outside"] = outside[0]
        if sent is not None:
            record["examples"] = sent.examples
            if sent.unsupported:
                record["unsupported"] = dict(sorted(sent.unsupported.items()))
            if sent.observed:
                record["observed"] = [[what, result] for impl, what, result in sent.observed if impl == plan.impl]
            ran = [item for impl, item in sent.exercised if impl == plan.impl]
            if ran:
                record["exercised"] = ran
            if sent.declared or sent.reached:
                record["regimes"] = sent.regimes
            if outcome == "failed" and sent.failure is not None and isinstance(item, pytest.Function):
                record["example"] = self._example(item, plan, sent.failure, message)
        report.user_properties.append((PROPERTY, json.dumps(record)))
        return report

    @staticmethod
    def _unexpected_failure(plan: Plan, report: pytest.TestReport, unmatched: BaseException | None) -> str:
        """An expected failure with a failure none of its entries describes: the report becomes a failure, with a
        section saying which entries did not match; returns that reason ("" otherwise)."""
        if unmatched is None or not hasattr(report, "wasxfail") or not report.skipped:
            return ""
        report.outcome = "failed"
        del report.wasxfail
        described = "; ".join(f"{e['source']} ({e.get('failure') or 'any failure'})" for e in plan.expected)
        why = f"not the expected failure of {described}"
        report.sections.append(("layer-conformance", f"{why}: got {exception_message(unmatched)}"))
        return why

    def _example(self, item: pytest.Function, plan: Plan, failure: dict[str, Any], message: str) -> dict[str, Any]:
        from ..formats.example import make_example  # imports torch: only for a failure

        return make_example(
            module=_importable_module(item),
            function=item.originalname,
            impl=plan.impl,
            device=self.device,
            failure=failure,
            message=message,
        )


def _nothing_judged(exc: BaseException | None) -> bool:
    """Hypothesis gave up for want of examples it could keep: every example was discarded (``Unsatisfiable``),
    or so many in a row that its health check stopped the test."""
    from hypothesis.errors import FailedHealthCheck, Unsatisfiable

    return isinstance(exc, (Unsatisfiable, FailedHealthCheck))


def _importable_module(item: pytest.Function) -> str:
    """The module of a property as an installed import path: ``layer_conformance.properties.test_masks``
    even when pytest imported the file from a checkout under another name (``conformance.properties.test_masks``)."""
    path = Path(str(item.path)).resolve()
    if path.parent == PROPERTIES_DIR:
        return f"{PACKAGE}.{PROPERTIES_DIR.name}.{path.stem}"
    return item.obj.__module__


def record_of(report: Any) -> dict[str, Any] | None:
    """The record a report carries, or None (a report of some other test, or xdist's crash report)."""
    for entry in getattr(report, "user_properties", ()) or ():
        if len(entry) == 2 and entry[0] == PROPERTY:
            try:
                value = json.loads(entry[1])
            except (TypeError, ValueError):
                return None
            return value if isinstance(value, dict) else None
    return None
