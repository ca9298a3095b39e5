"""The bundled xfails file agrees with the published release sweep (``docs/sweep.json``).

``layer-conformance sweep`` checks every line of the implementation's xfails files against the releases it
ran; the published sweep is committed, and this test runs the same check on the bundled file, so that a
version range or a failure pattern edited without a sweep (too broad, too narrow, a failure no release
raises) fails here.  Regenerate both with ``tox -e sweep``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from layer_conformance.formats.xfails import bundled_entries
from layer_conformance.tools import history
from layer_conformance.tools.sweep import PUBLISHED

SWEEP = Path(__file__).resolve().parent.parent / "docs" / "sweep.json"


@pytest.fixture(scope="module")
def published() -> dict:
    data = json.loads(SWEEP.read_text(encoding="utf-8"))
    assert data["format"] == history.SWEEP_FORMAT
    return data


def test_published_sweep_ran_clean_on_every_release(published):
    runs = published["runs"]
    assert [r["name"] for r in runs] == list(PUBLISHED)
    for run in runs:
        assert run["error"] is None, f"{run['name']}: {run['error']}"
        unclean = {o: n for o, n in run["counts"].items() if o in history.UNCLEAN}
        assert not unclean, f"{run['name']}: {unclean}"


def test_bundled_xfails_agree_with_the_published_sweep(published):
    runs = history.runs_from_summary(published)
    checks = history.check_xfails([("transformers", e) for e in bundled_entries("transformers")], runs)
    disagreeing = [history.describe_check(c) for c in checks if c.verdict == "disagrees"]
    assert not disagreeing, "\n".join(disagreeing)
    assert sum(c.verdict == "agrees" for c in checks) >= len(checks) - 2  # the flex lines need --attention-backend
