"""A pytest plugin for the self-tests: registers the Hypothesis profile ``explicit-only`` (the explicit
examples, nothing drawn), for ``pytest --hypothesis-profile explicit-only`` runs that check which regimes
a property reaches whatever the seed."""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, settings

settings.register_profile(
    "explicit-only",
    settings(deadline=None, database=None, phases=[Phase.explicit], suppress_health_check=[HealthCheck.too_slow]),
)
