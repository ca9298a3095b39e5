"""The per-test channel: what a running property reports besides its outcome.

While a property runs, the code it runs writes here, and the plugin takes it
all into that test's record at once (:func:`drain`, in
:mod:`layer_conformance.plugin.records`), so that it reaches the terminal
summary and ``report.json`` the same way serially and from pytest-xdist workers.
One buffer, five kinds of entry, each with one writer:

=============== ================================================= ==========================================
entry           what                                              written by
=============== ================================================= ==========================================
``examples``    examples run (calls of the property's body,       the plugin's guard
                shrinking included)
``failure``     the arguments and draws of the last failing       the plugin's guard
                example, raw (the report turns them into plain
                data)
``observed``    ``(impl, behaviour, outcome)``: behaviours        :func:`observe` (properties)
                observed without judging them
``exercised``   ``(impl, surface item)``: surface entries chosen  :func:`exercised` (properties, support)
                at run time that the property ran
``declared``,   the regimes its strategies declared and the ones  :func:`declare`, :func:`reach`
``reached``     its examples reached                              (:class:`layer_conformance.strategies.regimes.Regimes`)
``unsupported`` ``"<item> (<why>)"`` -> examples discarded because the plugin's guard (an implementation's
                the implementation has no counterpart for an      :func:`layer_conformance.missing.unsupported`)
                input of theirs
=============== ================================================= ==========================================

Adding a kind of entry means a field of :class:`Pending`, its writer here, and
its place in the record (:mod:`layer_conformance.plugin.records`).  This module
imports nothing but the standard library (the surface parser, lazily, to check
an item where it is reported).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Pending",
    "count_example",
    "declare",
    "discard",
    "drain",
    "exercised",
    "keep_failure",
    "observe",
    "reach",
]


@dataclass
class Pending:
    """Everything reported since the last :func:`drain`."""

    examples: int = 0
    failure: dict[str, Any] | None = None
    observed: list[tuple[str, str, str]] = field(default_factory=list)
    exercised: list[tuple[str, str]] = field(default_factory=list)
    declared: set[str] = field(default_factory=set)
    reached: set[str] = field(default_factory=set)
    unsupported: dict[str, int] = field(default_factory=dict)

    @property
    def regimes(self) -> dict[str, list[str]]:
        """``{"declared": [...], "reached": [...]}``, sorted."""
        return {"declared": sorted(self.declared), "reached": sorted(self.reached)}


_PENDING = Pending()


def drain() -> Pending:
    """Everything reported since the previous call; the channel starts empty again."""
    global _PENDING
    pending, _PENDING = _PENDING, Pending()
    return pending


def count_example() -> None:
    """One more example of the running property ran."""
    _PENDING.examples += 1


def keep_failure(failure: dict[str, Any]) -> None:
    """The arguments (``arguments``), draws (``draws``) and ``data`` flag of the example that just failed."""
    _PENDING.failure = failure


def discard(what: str) -> None:
    """One example was discarded: the implementation has no counterpart for ``what`` in it."""
    _PENDING.unsupported[what] = _PENDING.unsupported.get(what, 0) + 1


def observe(impl_name: str, what: str, outcome: str) -> None:
    """Record that implementation ``impl_name`` showed ``outcome`` for behaviour ``what`` (a caveat of the
    documentation rather than a contract: reported, not judged)."""
    entry = (impl_name, what, outcome)
    if entry not in _PENDING.observed:
        _PENDING.observed.append(entry)


def exercised(impl: Any, item: str) -> None:
    """Record that the running property exercised surface ``item`` (written as in
    :data:`layer_conformance.surface.COVERED`, e.g. ``"AttentionInterface['flex_attention']"``) of
    implementation ``impl`` (an implementation or its name): an entry chosen at run time, such as an
    attention backend the run selects, counts as covered in this run."""
    from .surface import parse

    parse(item)  # a malformed item is the property's error, raised where it is made
    entry = (getattr(impl, "name", impl), item)
    if entry not in _PENDING.exercised:
        _PENDING.exercised.append(entry)


def declare(names: Iterable[str]) -> None:
    """The running property must reach these regimes (``"group: class"``)."""
    _PENDING.declared.update(names)


def reach(name: str) -> None:
    """The running property reached regime ``name`` (``"group: class"``): a Hypothesis event and a record."""
    _PENDING.reached.add(name)
    from hypothesis import event
    from hypothesis.errors import InvalidArgument

    try:
        event(name)
    except InvalidArgument:  # drawn outside a test (strategy.example(), find): nothing to label
        pass
