"""Regimes: strategies label their draws, the records carry what each property declared and reached (the same
serially and under xdist), and the explicit examples reach every regime their properties declare."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import find, given, settings

from layer_conformance.impls import load_implementation
from layer_conformance.strategies import attention_cases, chunk_specs, geometries, head_sets
from layer_conformance.strategies.chunking import CHUNK_REGIMES, PINNED_SPECS, chunk_regimes
from layer_conformance.strategies.pruning import HEAD_REGIMES, PINNED_HEAD_SETS
from layer_conformance.support import masks, regimes
from layer_conformance.support.regimes import Regimes

ROOT = Path(__file__).resolve().parent.parent
CHUNKING = str(ROOT / "conformance" / "test_chunking.py")
REFERENCE = load_implementation("reference")


@pytest.fixture(autouse=True)
def empty_buffers():
    regimes.drain()
    yield
    regimes.drain()


def test_label_declares_the_regimes_and_reaches_those_the_value_falls_in():
    parity = Regimes("parity", {"even": lambda n: n % 2 == 0, "odd": lambda n: n % 2 == 1, "zero": lambda n: n == 0})
    assert parity.label(4) == 4  # outside a test: no Hypothesis event, still recorded
    assert regimes.drain() == {"declared": ["parity: even", "parity: odd", "parity: zero"], "reached": ["parity: even"]}
    parity.label(0, declared=["odd", "zero"])  # an undeclared class is not reached
    assert regimes.drain() == {"declared": ["parity: odd", "parity: zero"], "reached": ["parity: zero"]}
    with pytest.raises(KeyError, match="no regime 'prime'"):
        parity.label(3, declared=["prime"])


def test_labels_are_hypothesis_events():
    seen = []

    @settings(max_examples=5, database=None)
    @given(chunk_specs(max_inputs=3))
    def check(spec):
        seen.extend(regimes.drain()["reached"])

    check()
    assert any(name.startswith("chunking: ") for name in seen)


def test_strategies_reach_their_boundaries():
    find(geometries(phase="prefill"), lambda g: g.attention_mask is not None and g.kv_end > g.q_end)
    find(geometries(realistic=False), lambda g: g.attention_mask and len(g.attention_mask[0]) < g.kv_end)
    find(attention_cases(), lambda c: c.groups > 1 and c.q_len == 1)
    find(attention_cases(), lambda c: c.keep("cpu") is not None and not bool(c.keep("cpu").any(-1).all()))
    find(chunk_specs(max_inputs=3), lambda s: not s.same_shapes)
    find(head_sets(), lambda hs: 0 < len(hs.already_pruned) < hs.total_heads and bool(hs.heads))


def _missing(run) -> list[str]:
    regimes.drain()
    run()
    drawn = regimes.drain()
    return sorted(set(drawn["declared"]) - set(drawn["reached"]))


@pytest.mark.parametrize("phase", masks.PHASES)
@pytest.mark.parametrize("kinds", [tuple(masks.MASK_KINDS), masks.CAUSAL_FAMILY], ids=["every kind", "causal family"])
def test_pinned_builder_calls_reach_every_regime_they_declare(phase, kinds):
    def run():
        for index in range(len(masks.PINNED[phase])):
            masks.draw_case(index, REFERENCE, phase, kinds)

    assert _missing(run) == []


def test_pinned_calls_of_any_geometry_reach_every_regime_they_declare():
    def run():
        for index in range(len(masks.ANY_PINNED)):
            masks.draw_any_call(index, REFERENCE, tuple(masks.MASK_KINDS))

    assert _missing(run) == []


def test_pinned_chunk_specs_and_head_requests_reach_every_regime():
    def chunks():
        for spec in PINNED_SPECS:
            CHUNK_REGIMES.label(spec, declared=chunk_regimes(max_inputs=3))

    def heads():
        for hs in PINNED_HEAD_SETS:
            HEAD_REGIMES.label(hs, declared=["some heads pruned before", "a head requested twice"])
            HEAD_REGIMES.label(hs, declared=["an already pruned head requested", "every head requested"])
            HEAD_REGIMES.label(hs, declared=["nothing requested", "nothing pruned before"])

    assert _missing(chunks) == []
    assert _missing(heads) == []


@pytest.mark.parametrize(
    "styles, max_groups, no_empty_rows",
    [
        (("none", "causal", "additive", "boolean"), 3, False),
        (("none", "causal", "additive", "boolean"), 3, True),
        (("none", "additive", "boolean"), 3, False),
        (("none", "additive"), 3, False),
        (("none",), 3, False),
        (("none", "boolean"), 1, False),
    ],
)
def test_pinned_attention_cases_reach_every_regime_their_strategy_declares(styles, max_groups, no_empty_rows):
    from layer_conformance.strategies.attention import ATTENTION_REGIMES, _pinned, attention_regimes

    def cases():
        for case in _pinned(styles, max_groups, no_empty_rows):
            ATTENTION_REGIMES.label(case, declared=attention_regimes(styles, max_groups, no_empty_rows))

    assert _missing(cases) == []


def test_pinned_mask_specs_reach_every_regime_of_their_kind():
    from layer_conformance.strategies.masks import MASK_KINDS, PINNED_SPECS, SPEC_REGIMES, spec_regimes

    for kind in MASK_KINDS:

        def specs(kind=kind):
            for spec in PINNED_SPECS.get(kind, ()):
                SPEC_REGIMES.label((spec, 4), declared=spec_regimes([kind], 4))

        assert _missing(specs) == [], kind


def _report(tmp_path: Path, *extra: str) -> dict:
    out = tmp_path / f"r{len(list(tmp_path.iterdir()))}"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", CHUNKING, "-p", "no:cacheprovider", "--conformance-profile=selftest",
         f"--conformance-report={out}", *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:]
    return json.loads((out / "report.json").read_text())


def test_report_carries_the_regimes_of_each_result_serially_and_under_xdist(tmp_path):
    serial, xdist = _report(tmp_path), _report(tmp_path, "-n", "2")
    by_key = [{r["key"]: r.get("regimes") for r in report["results"]} for report in (serial, xdist)]
    assert by_key[0] == by_key[1]
    chunked = by_key[0]["test_chunking.py::test_chunked_equals_unchunked"]
    assert set(chunked["declared"]) == {f"chunking: {n}" for n in chunk_regimes(max_inputs=3)} | {
        "dtype: float32",
        "dtype: float64",
        "dtype: float16",
        "dtype: bfloat16",
    }
    assert "chunking: inputs whose shapes differ outside the chunk dim" in chunked["reached"]
    assert set(chunked["declared"]) - set(chunked["reached"]) <= {"dtype: float64", "dtype: float16", "dtype: bfloat16"}
    assert by_key[0]["test_chunking.py::test_no_input_tensor_is_an_error"] is None  # no strategy declares any
