"""Attention backends: selection (``--attention-backend``, ``all``), resolution per implementation
(missing with the reason, skipped call forms, declared capabilities), and a broken kernel registered
under a new key failing with a message that names its backend."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from layer_conformance.backends import Resolved, Unavailable, expand, resolve
from layer_conformance.contract import BACKENDS, backend_entry
from layer_conformance.impls import load_implementation

ROOT = Path(__file__).resolve().parent.parent
ATTENTION = str(ROOT / "conformance" / "properties" / "test_attention.py")

PROPS = textwrap.dedent(
    """
    from layer_conformance.support.attention import backend_of
    from layer_conformance.support.checks import backend_property

    @backend_property()
    def test_backend_runs(impl, backend):
        assert backend_of(impl, backend).function is not None
    """
)

KERNELS = textwrap.dedent(
    """
    from layer_conformance.reference import eager_mask
    from layer_conformance.reference.registry import Registry

    def kernel(*args, **kwargs):
        raise NotImplementedError

    def declared(*args, **kwargs):
        raise NotImplementedError

    declared.layer_conformance_backend = {"softcap": "supported"}

    class AttentionInterface(Registry):
        _global_mapping = {"kernel": kernel, "declared": declared, "paged|eager": kernel,
                           "flash_attention_2": kernel, "odd": kernel}

    class AttentionMaskInterface(Registry):
        _global_mapping = {"eager": eager_mask}

    ATTENTION_BACKENDS = {"kernel": {"dropout": "as_given"}, "odd": {"no_such_field": 1}}
    """
)


@pytest.fixture
def kernels():
    import importlib.util
    import sys

    spec = importlib.util.spec_from_loader("lc_test_kernels", loader=None)
    module = importlib.util.module_from_spec(spec)
    exec(KERNELS, module.__dict__)
    sys.modules["lc_test_kernels"] = module
    try:
        yield load_implementation("lc_test_kernels")
    finally:
        del sys.modules["lc_test_kernels"]


def test_the_documented_backends_and_their_defaults():
    assert BACKENDS["sdpa"].softcap == "rejected" and BACKENDS["eager"].dropout == "training"
    assert BACKENDS["flex_attention"].on("cpu").sinks == "rejected"
    assert BACKENDS["flex_attention"].on("cuda").sinks == "supported"
    undeclared = backend_entry("my_kernel")
    assert (undeclared.dropout, undeclared.softcap, undeclared.sinks) == ("rejected",) * 3
    assert undeclared.builder is None and undeclared.label == "AttentionInterface['my_kernel']"
    assert backend_entry("paged|sdpa").call_form == "paged"


def test_resolution_reasons(kernels):
    reference = load_implementation("reference")
    assert isinstance(resolve(reference, "sdpa", "cpu"), Resolved)
    missing = resolve(reference, "nope", "cpu")
    assert isinstance(missing, Unavailable) and missing.outcome == "missing"
    assert missing.reason == "missing: AttentionInterface['nope'] in reference (not in its AttentionInterface)"
    kernel = resolve(kernels, "kernel", "cpu")
    assert isinstance(kernel, Resolved) and kernel.caps.dropout == "as_given"  # the ATTENTION_BACKENDS hook
    assert resolve(kernels, "declared", "cpu").caps.softcap == "supported"  # declared on the function
    paged = resolve(kernels, "paged|eager", "cpu")
    assert paged.outcome == "skipped" and "paged cache" in paged.reason
    flash = resolve(kernels, "flash_attention_2", "cpu")
    assert flash.outcome == "missing" and "needs the Python module flash_attn" in flash.reason
    odd = resolve(kernels, "odd", "cpu")
    assert odd.outcome == "missing" and "unknown capability fields ['no_such_field']" in odd.reason
    assert resolve(kernels, "eager", "cpu").outcome == "missing"  # no eager_attention_forward
    assert kernel.caps.builder == "eager" and kernel.caps.builder_name == "eager_mask"  # no "kernel" builder: eager's
    assert kernel.builder is not None
    functions_only = load_implementation("tests.broken.attention_dropout_by_default")  # no mask builders
    eager = resolve(functions_only, "eager", "cpu")
    assert isinstance(eager, Resolved) and eager.builder is None
    assert eager.builder_missing(functions_only.name) == (
        "missing: eager_mask in tests.broken.attention_dropout_by_default (the mask builder of eager)"
    )


def test_all_is_every_key_that_can_run(kernels):
    keys, left_out = expand(["all"], [kernels], "cpu")
    assert keys == ["kernel", "declared"]
    assert [line.split(":")[0] for line in left_out] == ["eager", "paged|eager", "flash_attention_2", "odd"]
    assert expand([], [load_implementation("reference")], "cpu") == (["eager", "sdpa"], [])
    assert expand(["sdpa", "all", "eager"], [load_implementation("reference")], "cpu")[0] == ["sdpa", "eager"]


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_props=PROPS, lc_kernels=KERNELS)
    pytester.syspathinsert()
    return pytester


def test_default_backends_are_eager_and_sdpa(suite):
    result = suite.runpytest_inprocess("-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*test_backend_runs[[]reference-eager[]] PASSED*", "*[[]reference-sdpa[]] PASSED*"])


def test_a_backend_the_implementation_lacks_is_missing_with_the_reason(suite):
    result = suite.runpytest_inprocess("--attention-backend", "nope", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(
        ["*missing: AttentionInterface[[]'nope'[]] in reference (not in its AttentionInterface)*"]
    )
    strict = suite.runpytest_inprocess("--attention-backend", "nope", "--strict-missing")
    strict.assert_outcomes(failed=1)


def test_all_runs_what_can_run_and_says_what_it_left_out(suite):
    result = suite.runpytest_inprocess("--impl", "lc_kernels", "--attention-backend", "all", "-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "*attention backends: kernel, declared*",
            "*left out: eager: missing: eager_attention_forward in lc_kernels*",
            "*left out: paged|eager: paged|eager needs a paged cache*",
            "*left out: flash_attention_2: *needs the Python module flash_attn*",
        ]
    )


def test_a_call_form_the_suite_cannot_drive_is_skipped(suite, tmp_path):
    report = tmp_path / "r"
    result = suite.runpytest_inprocess(
        "--impl", "lc_kernels", "--attention-backend", "paged|eager", "-rs", f"--conformance-report={report}"
    )
    result.assert_outcomes(skipped=1)
    (entry,) = json.loads((report / "report.json").read_text())["results"]
    assert entry["outcome"] == "skipped" and "paged cache" in entry["reason"]


def test_a_broken_kernel_under_a_new_key_fails_naming_its_backend(pytester, tmp_path):
    report = tmp_path / "r"
    result = pytester.runpytest_inprocess(
        ATTENTION,
        "--impl",
        "tests.broken.kernel_ignores_mask",
        "--attention-backend",
        "kernel",
        "--conformance-profile",
        "selftest",
        "-k",
        "test_matches_float64_definition",
        "-o",
        f"pythonpath={ROOT}",
        f"--conformance-report={report}",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*test_matches_float64_definition[[]tests.broken.kernel_ignores_mask-kernel[]]*",
            "*output vs float64 definition*",
            "*AttentionInterface[[]'kernel'[]](batch=*",
        ]
    )
    data = json.loads((report / "report.json").read_text())
    (entry,) = data["results"]
    assert entry["apis"] == ["AttentionInterface['kernel']"] and entry["outcome"] == "failed"
    assert data["attention_backends"] == {"selected": ["kernel"], "left_out": []}


def test_a_kernel_nobody_declared_reads_the_masks_its_builder_makes(pytester, tmp_path):
    """A kernel registered with sdpa_mask and no declaration reads booleans: the suite gives it the masks its
    builder returns (read off one call of the builder), not additive ones, and every attention property
    passes on the correct kernel."""
    from layer_conformance.backends import resolve
    from layer_conformance.impls import load_implementation

    resolved = resolve(load_implementation("tests.impls.boolean_kernel"), "boolean_kernel", "cpu")
    assert resolved.caps.mask == "boolean" and resolved.caps.builder == "boolean_kernel"
    report = tmp_path / "r"
    result = pytester.runpytest_inprocess(
        ATTENTION,
        "--impl",
        "tests.impls.boolean_kernel",
        "--attention-backend",
        "boolean_kernel",
        "--conformance-profile",
        "selftest",
        "-o",
        f"pythonpath={ROOT}",
        f"--conformance-report={report}",
    )
    outcomes = {r["key"]: r["outcome"] for r in json.loads((report / "report.json").read_text())["results"]}
    ran = {k: o for k, o in outcomes.items() if "boolean_kernel" in k}
    assert ran and set(ran.values()) <= {"passed"}, ran
    assert result.ret == 0


def test_a_library_attention_function_without_a_registry_is_a_backend_selected_by_default(pytester, tmp_path):
    """An implementation giving its attention function through ``ATTENTION_FUNCTIONS`` (no AttentionInterface):
    the key is selected by default beside eager and sdpa, the attention properties judge it (all pass on the
    correct kernel), those of its mask builder are missing (it has none), and no registry property runs."""
    from layer_conformance.backends import expand, resolve
    from layer_conformance.impls import load_implementation

    impl = load_implementation("tests.impls.unregistered_kernel")
    assert expand([], [impl], "cpu") == (["eager", "sdpa", "mine"], [])
    assert resolve(impl, "mine", "cpu").caps.mask == "boolean"
    report = tmp_path / "r"
    result = pytester.runpytest_inprocess(
        ATTENTION,
        "--impl",
        "tests.impls.unregistered_kernel",
        "--conformance-profile",
        "selftest",
        "-o",
        f"pythonpath={ROOT}",
        f"--conformance-report={report}",
    )
    results = json.loads((report / "report.json").read_text())["results"]
    mine = {r["key"]: r for r in results if "[mine" in r["key"]}
    judged = {k: r["outcome"] for k, r in mine.items() if r["outcome"] != "missing"}
    assert len(judged) >= 10 and set(judged.values()) == {"passed"}, judged
    builder = [r for r in mine.values() if r["outcome"] == "missing"]
    assert builder and all("AttentionMaskInterface['mine']" in r["reason"] for r in builder)
    assert not any("[mine" in r["key"] for r in results if "registr" in r["key"])
    assert result.ret == 0
