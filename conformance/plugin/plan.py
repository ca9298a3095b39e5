"""What selection decided for one collected property: its :class:`Plan`, kept in the item's stash.

Selection (:mod:`.selection`) writes it after collection; the guard, the
speed-ups and the records read it (a test without a plan is not a property of
this run).  A leaf module: it imports nothing of the plugin.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

__all__ = ["PLAN", "Plan"]


@dataclass
class Plan:
    """What selection decided for one collected property (kept in the item's stash)."""

    impl: str
    key: str
    apis: list[str]
    #: contract names the implementation lacks (the property is skipped, or failed when strict)
    missing: list[str] = field(default_factory=list)
    #: the reason of the skip marker selection added (missing names, unselected dtype), if any
    skip: str | None = None
    #: every expected-failure entry that applies, its bugs before the differences its implementation declares:
    #: reason, repro, source, kind ("bug", "design"), failure (None: any failure).  The first one marks the test;
    #: each distinct failure of the test may be any of them
    expected: list[dict[str, str | None]] = field(default_factory=list)
    #: entries for this test whose version range leaves this version out: source, failure
    xfail_elsewhere: list[dict[str, str | None]] = field(default_factory=list)

    @property
    def xfail(self) -> dict[str, str | None] | None:
        """The entry that marks the test as an expected failure (the first that applies), or None."""
        return self.expected[0] if self.expected else None


PLAN = pytest.StashKey[Plan]()
