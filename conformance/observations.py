"""Behaviours the suite observes and reports without judging them.

Some documented behaviours are caveats rather than contracts (for example what
happens to a gradient-requiring keyword argument under reentrant
checkpointing).  Properties record what each implementation does here; the
plugin prints it in the terminal summary and the conformance report.
"""

from __future__ import annotations

from collections import defaultdict

__all__ = ["observe", "observed", "reset"]

_OBSERVED: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))


def observe(impl_name: str, what: str, outcome: str) -> None:
    """Record that implementation ``impl_name`` showed ``outcome`` for behaviour ``what``."""
    _OBSERVED[impl_name][what].add(outcome)


def observed() -> dict[str, dict[str, list[str]]]:
    """impl name -> behaviour -> sorted outcomes seen."""
    return {impl: {what: sorted(o) for what, o in per.items()} for impl, per in _OBSERVED.items()}


def reset() -> None:
    _OBSERVED.clear()
