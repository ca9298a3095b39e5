"""Regimes: strategies label their draws, the records carry what each property declared and reached (the same
serially and under xdist), and the explicit examples reach every regime their properties declare."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import find, given, settings

from layer_conformance import channel
from layer_conformance.impls import load_implementation
from layer_conformance.strategies import attention_cases, chunk_specs, geometries, head_sets
from layer_conformance.strategies.chunking import CHUNK_REGIMES, PINNED_SPECS, chunk_regimes
from layer_conformance.strategies.pruning import HEAD_REGIMES, PINNED_HEAD_SETS
from layer_conformance.strategies.regimes import Regimes
from layer_conformance.strategies.rope import PINNED_CASES, ROPE_TYPES, pinned_case
from layer_conformance.support import masks

ROOT = Path(__file__).resolve().parent.parent
CHUNKING = str(ROOT / "conformance" / "properties" / "test_chunking.py")
REFERENCE = load_implementation("reference")


def drained() -> dict[str, list[str]]:
    """The regimes declared and reached since the channel was last drained."""
    return channel.drain().regimes


@pytest.fixture(autouse=True)
def empty_buffers():
    drained()
    yield
    drained()


def test_label_declares_the_regimes_and_reaches_those_the_value_falls_in():
    parity = Regimes("parity", {"even": lambda n: n % 2 == 0, "odd": lambda n: n % 2 == 1, "zero": lambda n: n == 0})
    assert parity.label(4) == 4  # outside a test: no Hypothesis event, still recorded
    assert drained() == {"declared": ["parity: even", "parity: odd", "parity: zero"], "reached": ["parity: even"]}
    parity.label(0, declared=["odd", "zero"])  # an undeclared class is not reached
    assert drained() == {"declared": ["parity: odd", "parity: zero"], "reached": ["parity: zero"]}
    with pytest.raises(KeyError, match="no regime 'prime'"):
        parity.label(3, declared=["prime"])


def test_labels_are_hypothesis_events():
    seen = []

    @settings(max_examples=5, database=None)
    @given(chunk_specs(max_inputs=3))
    def check(spec):
        seen.extend(drained()["reached"])

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
    drained()
    run()
    drawn = drained()
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


@pytest.mark.parametrize("rope_type", ROPE_TYPES)
def test_pinned_rope_cases_reach_every_regime_of_their_type(rope_type):
    for seq_len in (False, True):
        for partial_rotary in (True, False):

            def cases(seq_len=seq_len, partial_rotary=partial_rotary):
                for index in range(PINNED_CASES):
                    pinned_case(rope_type, index, seq_len=seq_len, partial_rotary=partial_rotary)

            assert _missing(cases) == [], (seq_len, partial_rotary)
    assert pinned_case(rope_type, PINNED_CASES, seq_len=True) is None


def test_explicit_examples_alone_reach_every_regime_each_property_declares(suite_run, tmp_path):
    """Run with the explicit examples only (nothing drawn), every property reaches every regime it declares
    when it draws (on the implementation exposing the contract names, in the self-tests' suite run): what
    a property reaches does not depend on the seed."""
    from layer_conformance.plugin.records import record_of
    from tests.inner import NAMES_ONLY

    declared: dict[str, set[str]] = {}
    for report in suite_run.reports:
        record = record_of(report)
        if record and record["impl"] == NAMES_ONLY and record.get("regimes"):
            declared.setdefault(record["key"], set()).update(record["regimes"]["declared"])
    explicit = _report(tmp_path, "-p", "tests._explicit_only", "--hypothesis-profile=explicit-only", "-n", "2",
                       path=str(ROOT / "conformance" / "properties"), profile=None)  # fmt: skip
    reached = {r["key"]: set((r.get("regimes") or {}).get("reached", ())) for r in explicit["results"]}
    assert len(declared) > 100 and len(reached) > 150
    missing = {key: sorted(names - reached[key]) for key, names in declared.items() if key in reached}
    assert {key: names for key, names in missing.items() if names} == {}


def _report(tmp_path: Path, *extra: str, path: str = CHUNKING, profile: str | None = "selftest") -> dict:
    out = tmp_path / f"r{len(list(tmp_path.iterdir()))}"
    chosen = [f"--conformance-profile={profile}"] if profile else []
    done = subprocess.run(
        [sys.executable, "-m", "pytest", path, "-p", "no:cacheprovider", *chosen, f"--conformance-report={out}",
         *extra],
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
