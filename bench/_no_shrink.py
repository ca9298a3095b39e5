"""A pytest plugin for ``bench/detection.py --no-shrink``: the properties run their profile without its shrink
phase.  The examples are the same (the phases that find a failure -- explicit, reuse, generate -- are
untouched), so whether a property fails under a seed is the same; only the search for a smaller failing
example, which detection does not need and which took most of a session's time, is skipped."""

from __future__ import annotations

import pytest
from hypothesis import Phase, is_hypothesis_test, settings


@pytest.hookimpl(trylast=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    fn = getattr(item, "obj", None)
    if fn is None or not is_hypothesis_test(fn):
        return
    current = fn._hypothesis_internal_use_settings
    if Phase.shrink in current.phases:
        fn._hypothesis_internal_use_settings = settings(
            current, phases=[phase for phase in current.phases if phase is not Phase.shrink]
        )
