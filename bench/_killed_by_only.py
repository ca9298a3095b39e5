"""A pytest plugin for ``bench/detection.py --killed-by-only``: of each broken implementation's properties,
only those its ``KILLED_BY`` names are run (the others are deselected), to measure detection faster."""

from __future__ import annotations

import importlib
import re

import pytest

from layer_conformance.plugin.plan import PLAN


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    keep, drop = [], []
    for item in items:
        plan = item.stash.get(PLAN, None)
        if plan is None or not plan.impl.startswith("tests.broken."):
            keep.append(item)
            continue
        wanted = importlib.import_module(plan.impl).KILLED_BY
        (keep if re.sub(r"\[.*\]$", "", plan.key) in wanted else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
