"""Hypothesis profiles registered by the plugin; pick one with ``--hypothesis-profile``.

========== ===================================================================
profile    use
========== ===================================================================
dev        the default: fast, random, shrinks failures
ci         default when the ``CI`` environment variable is set: derandomized
           (the same examples on every run), otherwise like ``dev``
thorough   nightly: ten times the examples of ``ci``
gpu        ``ci`` for ``--device cuda`` runs
selftest   the suite's own self-tests (``tests/``): few examples, derandomized,
           no shrinking (a kill needs a failure, not the smallest one)
========== ===================================================================

No profile has a deadline: torch's first call of an operator is slow and wall
time is measured by ``bench/``, never by a test.  No profile runs Hypothesis'
``explain`` phase: it traces every line executed while re-running the failing
example, which made one shrunk Conv1D failure take 20 s instead of 1 s.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

__all__ = ["DEFAULT", "PROFILES", "load_default"]

_COMMON = dict(
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

for _name, _settings in PROFILES.items():
    settings.register_profile(_name, _settings)

DEFAULT = "dev"


def load_default() -> str:
    """Load ``ci`` when the CI environment variable is set, ``dev`` otherwise; return its name."""
    name = "ci" if os.environ.get("CI") else DEFAULT
    settings.load_profile(name)
    return name
