"""The surface check: listing, declarations, what the properties really exercise, reports, xdist."""

from __future__ import annotations

import importlib
import json
import textwrap
from collections import defaultdict
from pathlib import Path

import pytest

from layer_conformance import reference
from layer_conformance.contract import NAMES
from layer_conformance.impls import load_implementation
from layer_conformance.plugin.surface_check import facts_of
from layer_conformance.surface import COVERED, EXEMPT, Item, coverage, parse, surface_of
from tests.impls import extra_surface
from tests.inner import PROPERTIES, SPY

ROOT = Path(__file__).resolve().parent.parent
REGISTRIES = str(ROOT / "conformance" / "properties" / "test_registries.py")
BASE = ["-p", "no:cacheprovider", "-p", "no:randomly", "--hypothesis-profile=selftest", "-o", f"pythonpath={ROOT}"]


def test_items_read_back_as_written():
    for text in [*COVERED, *EXEMPT, "sdpa_mask(use_vmap)", "AttentionInterface['paged|eager']", "X['a\\'b'](p)"]:
        assert str(parse(text)) == text
    assert parse("ROPE_INIT_FUNCTIONS['yarn'](seq_len)") == Item("ROPE_INIT_FUNCTIONS", "yarn", "seq_len")
    assert parse("ROPE_INIT_FUNCTIONS[*](seq_len)").matches(parse("ROPE_INIT_FUNCTIONS['yarn'](seq_len)"))
    assert not parse("ROPE_INIT_FUNCTIONS[*](seq_len)").matches(parse("sdpa_mask(seq_len)"))
    for bad in ["sdpa_mask(", "a b", "X[yarn]", ""]:
        with pytest.raises(ValueError):
            parse(bad)


def test_declarations_name_existing_properties():
    """Every property a declaration names is a test function of the suite."""
    for text, properties in COVERED.items():
        assert properties, f"{text}: declared with no property"
        for key in properties:
            path, _, function = key.partition("::")
            assert (PROPERTIES / path).exists(), f"{text}: {key}: no such module"
            module = importlib.import_module(f"layer_conformance.properties.{Path(path).stem}")
            assert callable(getattr(module, function, None)), f"{text}: {key}: no such property"


def test_reference_surface_is_exercised_entirely():
    items = surface_of(reference, NAMES)
    assert "sdpa_mask(use_vmap)" in items and "ROPE_INIT_FUNCTIONS['proportional'](head_dim_key)" in items
    assert "AttentionMaskInterface['eager']" in items and "Conv1D(nf)" in items
    assert not any("kwargs" in i or "args)" in i for i in items), "catch-alls are not surface"
    result = coverage(items)
    assert result.uncovered == [] and result.exempt == {}


def test_coverage_rules():
    items = [
        "f(a)",
        "ROPE_INIT_FUNCTIONS['new']",
        "ROPE_INIT_FUNCTIONS['new'](config)",
        "ROPE_INIT_FUNCTIONS['yarn']",
        "ROPE_INIT_FUNCTIONS['yarn'](config)",
        "ROPE_INIT_FUNCTIONS['yarn'](extra)",
        "AttentionInterface['flex_attention']",
        "sdpa_mask(cache_position)",
        "sdpa_mask(q_length)",
    ]
    result = coverage(items, aliases={"sdpa_mask(cache_position)": "sdpa_mask(q_length)"})
    # an uncovered entry stands for its parameters; [*] covers the parameters of covered entries only
    assert result.uncovered == ["ROPE_INIT_FUNCTIONS['new']", "ROPE_INIT_FUNCTIONS['yarn'](extra)", "f(a)"]
    assert list(result.exempt) == ["AttentionInterface['flex_attention']"]
    assert result.covered == 4  # yarn, yarn(config), q_length, cache_position (the new entry's config is neither)
    ran = coverage(items, exercised=["f(a)", "AttentionInterface['flex_attention']"])
    assert "f(a)" not in ran.uncovered and ran.exempt == {}
    assert "sdpa_mask(cache_position)" in ran.uncovered  # no alias given this time


def test_declarations_are_what_the_properties_exercise(suite_run):
    """Run on the spy, each declared property passes each parameter (looks up each key) it is declared
    for, and each item of the reference's surface is exercised by a property declared for it."""
    seen: dict[str, set[str]] = defaultdict(set)
    for prop, item in suite_run.spied:
        seen[prop].add(item)
    assert seen, f"the spy ({SPY}) recorded nothing"
    surface = surface_of(reference, NAMES)
    problems = []
    for text, properties in COVERED.items():
        pattern = parse(text)
        concrete = [i for i in surface if pattern.matches(parse(i))]
        for prop in properties:
            if not any(i in seen[prop] for i in concrete):
                problems.append(f"{prop} is declared for {text} but exercises none of {concrete}")
        for item in concrete:
            if not any(item in seen[p] for p in properties):
                problems.append(f"{item}: none of the properties declared for {text} exercises it")
    assert not problems, "\n".join(problems)


@pytest.fixture
def run(pytester: pytest.Pytester):
    pytester.syspathinsert(ROOT)
    pytester.syspathinsert()

    def _run(*args: str) -> pytest.RunResult:
        return pytester.runpytest_inprocess(*BASE, *args)

    return _run


FOREIGN = textwrap.dedent(
    """
    from layer_conformance.support.checks import requires
    from layer_conformance.channel import exercised

    @requires("AttentionInterface")
    def test_runs_the_new_backend(impl):
        assert callable(impl.AttentionInterface()["lc_new_backend"])
        exercised(impl, "AttentionInterface['lc_new_backend']")
    """
)


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_extra_parameter_and_registry_keys_are_uncovered(run, pytester, tmp_path, workers):
    """An implementation with a parameter and registry keys of its own: exactly those are uncovered, in
    the terminal summary and report.json, serially and under xdist; the reference beside it has none."""
    report_dir = tmp_path / "report"
    result = run(
        REGISTRIES,
        *workers,
        "--impl=reference",
        "--impl=tests.impls.extra_surface",
        f"--conformance-report={report_dir}",
    )
    result.assert_outcomes(passed=9, skipped=1)  # its AttentionInterface has no get_interface
    surface = json.loads((report_dir / "report.json").read_text())["surface"]
    assert surface["tests.impls.extra_surface"]["uncovered"] == extra_surface.UNCOVERED
    assert surface["reference"]["uncovered"] == [] and surface["reference"]["exempt"] == {}
    result.stdout.fnmatch_lines(
        [
            "*layer-conformance: surface*",
            "reference: * items, * exercised; uncovered surface: none",
            "tests.impls.extra_surface: * items, * exercised; uncovered (3):",
            *[f"  {item}" for item in extra_surface.UNCOVERED],
        ]
    )
    markdown = (report_dir / "report.md").read_text()
    assert "## Surface" in markdown and "`sdpa_mask(new_option)`" in markdown


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_an_entry_a_property_reports_running_is_covered(run, pytester, tmp_path, workers):
    """A property that reports running a registry entry (an attention backend the run selected) makes it
    covered for that run; the records carry it from xdist workers."""
    pytester.makepyfile(test_backend=FOREIGN)
    report_dir = tmp_path / "report"
    result = run("test_backend.py", *workers, "--impl=tests.impls.extra_surface", f"--conformance-report={report_dir}")
    result.assert_outcomes(passed=1)
    uncovered = json.loads((report_dir / "report.json").read_text())["surface"]["tests.impls.extra_surface"]
    assert uncovered["uncovered"] == [i for i in extra_surface.UNCOVERED if "lc_new_backend" not in i]


def test_adapter_aliases_reach_the_report(run, tmp_path):
    """An implementation's SURFACE_ALIASES hook: the aliased item is covered through its canonical one."""
    report_dir = tmp_path / "report"
    result = run(REGISTRIES, "--impl=tests.impls.aliased_surface", f"--conformance-report={report_dir}")
    result.assert_outcomes(passed=5)
    surface = json.loads((report_dir / "report.json").read_text())["surface"]["tests.impls.aliased_surface"]
    assert "sdpa_mask(cache_position)" in surface["items"] and surface["uncovered"] == []


def test_transformers_surface_is_exercised():
    """transformers 5.24.0 (when installed): no uncovered surface; exempt are the attention backends, the entry
    points' cache parameters and the other public functions of masking_utils and modeling_rope_utils."""
    transformers = pytest.importorskip("transformers")
    if transformers.__version__ != "5.24.0":
        pytest.skip(f"transformers {transformers.__version__} installed; this checks 5.24.0")
    result = coverage(**_facts(load_implementation("transformers")))
    assert result.uncovered == []
    kinds = ("AttentionInterface[", "AttentionMaskInterface[", "masking_utils.", "modeling_rope_utils.", "create_")
    assert all(i.startswith(kinds) for i in result.exempt), sorted(result.exempt)


def _facts(impl) -> dict:
    facts = facts_of(impl)
    return {"items": facts["items"], "aliases": facts["aliases"]}
