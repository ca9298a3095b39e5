"""Behaviours the suite observes and reports without judging them.

Some documented behaviours are caveats rather than contracts (for example what
happens to a gradient-requiring keyword argument under reentrant
checkpointing).  A property records what each implementation does with
:func:`observe`; the plugin takes the observations made during each test into
that test's report (:mod:`layer_conformance.plugin.records`), so they reach the
terminal summary and the conformance report the same way serially and from
pytest-xdist workers.
"""

from __future__ import annotations

__all__ = ["drain", "observe"]

_PENDING: list[tuple[str, str, str]] = []


def observe(impl_name: str, what: str, outcome: str) -> None:
    """Record that implementation ``impl_name`` showed ``outcome`` for behaviour ``what``."""
    entry = (impl_name, what, outcome)
    if entry not in _PENDING:
        _PENDING.append(entry)


def drain() -> list[tuple[str, str, str]]:
    """The observations made since the last call, in order, each once; the buffer is emptied."""
    pending = list(_PENDING)
    _PENDING.clear()
    return pending
