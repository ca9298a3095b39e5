"""Regimes: the boundary classes of the input space a property must reach, and those it reached.

Implementations go wrong at the edges of the input space: left against right padding, offsets at the
ends of a cache, a window of one key or wider than the keys, grouped heads in decode, one token, an
empty set of heads.  A verdict that depends on whether 40 random draws happened to land there is a
lottery, so every strategy states the regimes it must reach -- a :class:`Regimes`: a group name and
its classes, each a predicate over a drawn value -- biases its draws towards them, and labels every
draw with the classes it falls in (:meth:`Regimes.label`).  A label is

* a Hypothesis event (``pytest --hypothesis-show-statistics`` lists how often each was drawn), and
* recorded in the per-test channel (:mod:`layer_conformance.channel`), with the regimes the strategy
  declared: the plugin takes both into the running property's record, so that ``report.json``
  carries, per result, ``regimes: {"declared": [...], "reached": [...]}`` -- the same serially and
  from pytest-xdist workers.

``bench/regimes.py`` runs the suite under many seeds and reports, per property, the share of runs in
which each declared regime was reached (the goal: every one, in every run, at the default profile).
Regimes are written ``"<group>: <class>"`` (``"geometry: left padding"``).  Explicit examples
(``@example``) that bypass a strategy label their values with the strategy's :class:`Regimes` too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from layer_conformance.channel import declare, reach

__all__ = ["Regimes"]

T = TypeVar("T")


class Regimes:
    """The regimes of one strategy: a group name and its classes, each a predicate over a drawn value.

    ``label(value)`` declares the classes (all of them, or those the strategy's arguments allow) and
    reaches the ones ``value`` falls in.  A value may fall in several classes (classes of different
    axes: padding and offsets), or in none of those declared."""

    def __init__(self, group: str, classes: dict[str, Callable[[Any], bool]]) -> None:
        self.group = group
        self.classes = dict(classes)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.classes)

    def full(self, name: str) -> str:
        if name not in self.classes:
            raise KeyError(f"{self.group}: no regime {name!r} (declared: {', '.join(self.classes)})")
        return f"{self.group}: {name}"

    def of(self, value: Any) -> list[str]:
        """The classes ``value`` falls in."""
        return [name for name, test in self.classes.items() if test(value)]

    def label(self, value: T, *, declared: Iterable[str] | None = None) -> T:
        """Declare ``declared`` (default: every class) and reach the declared classes ``value`` falls in;
        return ``value``."""
        names = self.names if declared is None else tuple(declared)
        declare(self.full(name) for name in names)
        for name in self.of(value):
            if name in names:
                reach(self.full(name))
        return value
