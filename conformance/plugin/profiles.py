"""Hypothesis profiles of the suite's properties.

========== ===================================================================
profile    use
========== ===================================================================
dev        the default: fast, random, shrinks failures
ci         default when the ``CI`` environment variable is set: derandomized
           (the same examples on every run), otherwise like ``dev``
thorough   nightly: ten times the examples of ``ci``
gpu        ``ci`` for ``--conformance-device cuda`` runs
selftest   the suite's own self-tests (``tests/``): few examples, derandomized,
           no shrinking (a kill needs a failure, not the smallest one)
========== ===================================================================

The chosen profile applies to the suite's properties only: after collection
each of them is given its settings (:func:`apply`), and Hypothesis' own default
profile, which every other test of the run uses, is neither loaded nor changed.
The choice, first that applies:

1. ``--conformance-profile NAME``: one of the profiles above;
2. Hypothesis' own ``--hypothesis-profile NAME``: the profile Hypothesis loaded
   for every test of the run.  When ``NAME`` is one of the names above and no
   one registered a profile by that name, the suite's is registered just
   before Hypothesis loads it (``pytest --hypothesis-profile thorough`` works);
3. ``ci`` when ``$CI`` is set, ``dev`` otherwise.

``--hypothesis-verbosity`` and ``--hypothesis-seed`` apply to the properties as
usual.

A derandomized profile draws the same examples wherever the suite runs from:

* a property's examples are keyed by its result key (``test_masks.py::test_x[decode]``:
  file name, test name, parameters), not by its pytest node id, which holds the
  path it was collected from (a checkout, an installed package, another working
  directory) and the implementation's id (:func:`key_examples`);
* while a property runs, Hypothesis draws no constants from "local" modules
  (:func:`without_local_constants`): Hypothesis collects the literals of every
  imported module outside site-packages and test files and sometimes draws
  them, so the examples would depend on whether the suite is installed
  editable, on which of its modules happen to be imported, and on the modules
  of the project it runs in.

Two implementations, two releases or two checkouts of the same suite therefore
see the same examples of a property.  No profile has a deadline: torch's first call of an operator is slow
and wall time is measured by ``bench/``, never by a test.  No profile runs
Hypothesis' ``explain`` phase: it traces every line executed while re-running
the failing example, which made one shrunk Conv1D failure take 20 s instead of 1 s.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, Verbosity, is_hypothesis_test, settings

__all__ = [
    "DEFAULT",
    "PROFILES",
    "SuiteSettings",
    "choose",
    "key_examples",
    "register_requested",
    "without_local_constants",
]

_BASE = settings.get_profile("default")  # Hypothesis' own defaults, whatever profile is loaded now
_COMMON: dict[str, Any] = dict(
    parent=_BASE,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
    phases=[phase for phase in Phase if phase is not Phase.explain],
)

PROFILES = {
    "dev": settings(max_examples=40, **_COMMON),
    "ci": settings(max_examples=40, derandomize=True, database=None, **_COMMON),
    "thorough": settings(max_examples=400, **_COMMON),
    "gpu": settings(max_examples=40, derandomize=True, database=None, **_COMMON),
    "selftest": settings(
        max_examples=25, derandomize=True, database=None, **{**_COMMON, "phases": [Phase.explicit, Phase.generate]}
    ),
}

DEFAULT = "dev"


def _registered(name: str) -> bool:
    try:
        settings.get_profile(name)
    except Exception:  # hypothesis.errors.InvalidArgument
        return False
    return True


def register_requested(config: pytest.Config) -> None:
    """``--hypothesis-profile NAME`` naming a suite profile nobody registered: register it, so that
    Hypothesis (whose ``pytest_configure`` loads it) finds it."""
    name = config.getoption("hypothesis_profile", None)
    if name in PROFILES and not _registered(name):
        settings.register_profile(name, PROFILES[name])


def _current_profile() -> str | None:
    getter = getattr(settings, "get_current_profile_name", None)  # hypothesis >= 6.122
    return getter() if getter is not None else getattr(settings, "_current_profile", None)


def choose(config: pytest.Config) -> tuple[str, settings]:
    """The name and settings of the profile the suite's properties run under (see the module doc)."""
    name = config.getoption("conformance_profile", None)
    if name:
        if name not in PROFILES:
            raise pytest.UsageError(f"--conformance-profile {name}: choose from {', '.join(PROFILES)}")
        chosen = PROFILES[name]
    elif config.getoption("hypothesis_profile", None):
        name, chosen = _current_profile() or str(config.getoption("hypothesis_profile")), settings.default
    else:
        name = "ci" if os.environ.get("CI") else DEFAULT
        chosen = PROFILES[name]
    verbosity = config.getoption("hypothesis_verbosity", None)
    if verbosity:
        chosen = settings(chosen, verbosity=Verbosity[verbosity])
    return name, chosen


class SuiteSettings:
    """Gives each collected property of the suite the chosen settings, and puts back what was there
    when the session ends (a property module imported once serves several in-process sessions).

    A property decorated with its own ``@settings`` keeps them."""

    def __init__(self, chosen: settings) -> None:
        self.chosen = chosen
        self.saved: dict[int, tuple[Any, Any]] = {}

    def apply(self, fn: Any) -> None:
        if not is_hypothesis_test(fn) or getattr(fn, "_hypothesis_internal_settings_applied", False):
            return
        if id(fn) not in self.saved:
            self.saved[id(fn)] = (fn, fn._hypothesis_internal_use_settings)
        fn._hypothesis_internal_use_settings = self.chosen

    def restore(self) -> None:
        for fn, previous in self.saved.values():
            fn._hypothesis_internal_use_settings = previous
        self.saved.clear()


def key_examples(inner_test: Any, key: str) -> None:
    """Key a property's examples by ``key`` (its result key) instead of its node id.

    Hypothesis' pytest plugin gives each parametrized test its node id as an extra digest, which seeds a
    derandomized run and names the test's entries in the example database; called after it (when the
    property's body is about to run), this replaces the node id by a key without the path the test was
    collected from and without the implementation's id.  A test Hypothesis gave no extra digest (its
    examples depend on its source only) is left alone."""
    if hasattr(inner_test, "_hypothesis_internal_add_digest"):
        inner_test._hypothesis_internal_add_digest = key.encode()


@contextlib.contextmanager
def without_local_constants() -> Iterator[None]:
    """Hypothesis draws no constants collected from local modules while the block runs.

    Hypothesis (6.131 and later) scans every imported module outside site-packages and test files for
    literals and draws one of them now and then: what it draws then depends on what happens to be
    imported and installed how, not on the suite and the property.  Here the pool of local constants is
    empty (its global constants stay); outside the block, the run's other tests keep Hypothesis' own
    behaviour.  A Hypothesis without the feature is left as it is."""
    try:
        from hypothesis.internal.conjecture import providers
    except ImportError:  # pragma: no cover - a Hypothesis laid out otherwise
        yield
        return
    getter = getattr(providers, "_get_local_constants", None)
    cache = getattr(getattr(providers, "CONSTANTS_CACHE", None), "cache", None)
    if getter is None or cache is None or not hasattr(providers, "Constants"):
        yield
        return
    none = providers.Constants()
    providers._get_local_constants = lambda: none
    cache.clear()  # allowed constants computed with the local ones
    try:
        yield
    finally:
        providers._get_local_constants = getter
        cache.clear()
