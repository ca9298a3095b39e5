"""The plugin: implementation selection, missing names, strictness, header, xfails, the guard."""

from __future__ import annotations

import importlib.metadata as md
import json
import subprocess
import sys
import textwrap

import pytest

from layer_conformance import impls

PROPS = textwrap.dedent(
    """
    import torch
    from layer_conformance.support.checks import requires

    @requires("Conv1D")
    def test_has_conv1d(impl):
        assert impl.Conv1D is not None

    @requires("apply_chunking_to_forward")
    def test_needs_chunking(impl):
        assert impl.apply_chunking_to_forward is not None
    """
)

FAKE_IMPL = textwrap.dedent(
    """
    __version__ = "9.9"
    from layer_conformance.reference import Conv1D
    """
)


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_props=PROPS, myimpl=FAKE_IMPL)
    pytester.syspathinsert()
    return pytester


def test_default_implementation_is_the_reference(suite):
    result = suite.runpytest_inprocess("-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*test_has_conv1d[[]reference[]] PASSED*", "*test_needs_chunking[[]reference[]]*"])


def test_missing_name_is_skipped_with_reason(suite):
    result = suite.runpytest_inprocess("--impl", "myimpl", "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*missing: apply_chunking_to_forward in myimpl*"])


@pytest.mark.parametrize("flag", ["--strict-missing", "--strict"])
def test_missing_name_fails_when_strict(suite, flag):
    result = suite.runpytest_inprocess("--impl", "myimpl", flag)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*missing: apply_chunking_to_forward in myimpl (strict)*"])


def test_several_implementations_each_run_every_property(suite):
    result = suite.runpytest_inprocess("--impl", "reference", "--impl", "myimpl", "-v")
    result.assert_outcomes(passed=3, skipped=1)
    result.stdout.fnmatch_lines(["*test_has_conv1d[[]reference[]] PASSED*", "*test_has_conv1d[[]myimpl[]] PASSED*"])


def test_environment_variable_selects_implementations(suite, monkeypatch):
    monkeypatch.setenv("LAYER_CONFORMANCE_IMPL", "myimpl, reference")
    result = suite.runpytest_inprocess("-v")
    result.assert_outcomes(passed=3, skipped=1)


def test_command_line_wins_over_environment(suite, monkeypatch):
    monkeypatch.setenv("LAYER_CONFORMANCE_IMPL", "myimpl")
    result = suite.runpytest_inprocess("--impl", "reference")
    result.assert_outcomes(passed=2)


def test_header_names_each_implementation_origin_version_and_missing_names(suite):
    result = suite.runpytest_inprocess("--impl", "myimpl", "--impl", "reference")
    result.stdout.fnmatch_lines(
        [
            "layer-conformance: torch *, device cpu*",
            "  impl myimpl: version 9.9 from *myimpl.py",
            "    missing (*): apply_chunking_to_forward, *",
            "  impl reference: version * from *reference*__init__.py",
        ]
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("no_such_module_xyz", "ERROR: --impl no_such_module_xyz: cannot import 'no_such_module_xyz'*"),
        ("myimpl:Nope", "ERROR: --impl myimpl:Nope: 'myimpl' has no attribute 'Nope'"),
        ("textwrap", "ERROR: --impl textwrap: * exposes none of the contract names*"),
        ("crashing", "ERROR: --impl crashing: importing 'crashing' raised ZeroDivisionError: division by zero"),
        ("not a module!", "ERROR: --impl not a module!: not an adapter*"),
    ],
)
def test_bad_impl_is_a_one_line_usage_error(suite, spec, message):
    suite.makepyfile(crashing="1 / 0")
    result = suite.runpytest_inprocess("--impl", spec)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
    assert "Traceback" not in result.stderr.str() + result.stdout.str()
    assert len([line for line in result.stderr.lines if line.strip()]) == 1


def test_entry_point_names_an_implementation(suite, monkeypatch):
    ep = md.EntryPoint(name="mine", value="myimpl", group=impls.ENTRY_POINT_GROUP)
    monkeypatch.setattr(impls, "_entry_point", lambda spec: ep if spec == "mine" else None)
    result = suite.runpytest_inprocess("--impl", "mine", "-v")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*test_has_conv1d[[]mine[]] PASSED*"])


def test_reference_is_registered_as_an_entry_point():
    names = {ep.name: ep.value for ep in md.entry_points(group=impls.ENTRY_POINT_GROUP)}
    assert names.get("reference") == "layer_conformance.reference"
    assert impls.load_implementation("reference").has("Conv1D")


# --------------------------------------------------------------------------- xfails


@pytest.mark.parametrize("strict", [True, False], ids=["strict", "relaxed"])
def test_xfails_file_marks_expected_failures_and_stale_ones_are_reported(suite, monkeypatch, strict):
    monkeypatch.delenv("CI", raising=False)
    suite.makepyfile(
        test_more="""
        from layer_conformance.support.checks import requires

        @requires()
        def test_broken(impl):
            assert False, "a real bug"

        @requires()
        def test_fixed(impl):
            pass
        """
    )
    suite.makefile(
        ".txt",
        xf="""
        # comment
        test_more.py::test_broken[*] | known bug | python -c 'print(1)'
        test_more.py::test_fixed[myimpl] | was a bug | python -c 'print(2)'
        test_more.py::test_fixed[*] | only for 1.x | python -c 'print(3)' | 1.*
        test_more.py::test_fixed[*] | only before 9 | python -c 'print(4)' | <9
        """,
    )
    args = ["--impl", "myimpl", "--xfails-file", "myimpl=xf.txt", "test_more.py", "-rxX"]
    result = suite.runpytest_inprocess(*args, *(["--strict-xfails"] if strict else []))
    if strict:
        result.assert_outcomes(xfailed=1, failed=1)
        result.stdout.fnmatch_lines(["*[[]XPASS(strict)[]] was a bug*", "*XFAIL*test_broken*known bug*repro*"])
    else:
        result.assert_outcomes(xfailed=1, xpassed=1)
        assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*stale expected failures*", "test_more.py::test_fixed (myimpl)"])


def test_xfail_lines_match_a_module_named_with_pyargs_from_elsewhere(tmp_path):
    """pytest leaves the file out of the node ids of a module named with ``--pyargs`` from another directory
    (``::test_x[...]``); xfail lines and result keys still name it by its file."""
    xfails = tmp_path / "xf.txt"
    xfails.write_text("test_chunking.py::test_inputs_not_mutated[*] | pretend bug | - | * | AssertionError\n")
    report = tmp_path / "r"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--pyargs", "layer_conformance.properties.test_chunking",
         "-k", "test_inputs_not_mutated", "--impl", "reference", "--xfails-file", f"reference={xfails}",
         "--conformance-profile", "selftest", f"--conformance-report={report}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    (result,) = json.loads((report / "report.json").read_text())["results"]
    assert result["key"] == "test_chunking.py::test_inputs_not_mutated", result
    # the reference passes: the line applied, so the expected failure is stale
    assert result["outcome"] == "stale" and result["xfail"] == f"{xfails}:1", (result, done.stdout[-2000:])


FAILING = """
    try:
        from builtins import ExceptionGroup
    except ImportError:  # Python 3.10: Hypothesis' backport
        from exceptiongroup import ExceptionGroup
    from layer_conformance.support.checks import requires

    @requires()
    def test_values(impl):
        raise AssertionError("mask values: Tensor-likes are not equal!")

    @requires()
    def test_call_form(impl):
        raise TypeError("chunked_overlay() takes 1 positional argument but 2 were given")

    @requires()
    def test_group(impl):
        raise ExceptionGroup("two", [AssertionError("mask values: a"), AssertionError("mask shape: b")])

    @requires()
    def test_outside(impl):
        raise AssertionError("max_seq_len_cached: got 4, but should be 5")

    @requires()
    def test_any_type(impl):
        raise RuntimeError("view size is not compatible")
    """


def test_an_expected_failure_matches_only_the_failure_it_describes(suite, monkeypatch, tmp_path):
    """The failure field: the exception type and a regular expression searched in its message.  A test raising
    the failure described is an expected failure; one raising another (a wrong call form's TypeError, one of
    Hypothesis' several failures that is not the one described) fails, with a note naming the line; a failure
    described by a line whose version range leaves the version out is reported as such."""
    monkeypatch.delenv("CI", raising=False)
    suite.makepyfile(test_failing=FAILING)
    suite.makefile(
        ".txt",
        xf="""
        test_failing.py::test_values[*] | wrong mask | r | * | AssertionError: mask values
        test_failing.py::test_call_form[*] | wrong mask | r | * | AssertionError: mask values
        test_failing.py::test_group[*] | wrong values | r | * | AssertionError: mask values
        test_failing.py::test_outside[*] | dynamic rope | r | <9 | AssertionError: max_seq_len_cached
        test_failing.py::test_any_type[*] | view | r | * | *: view size
        """,
    )
    report = tmp_path / "report"
    result = suite.runpytest_inprocess(
        "--impl", "myimpl", "--xfails-file", "myimpl=xf.txt", "test_failing.py", f"--conformance-report={report}"
    )
    result.assert_outcomes(xfailed=2, failed=3)
    result.stdout.fnmatch_lines(
        [
            "*not the expected failure of xf.txt:2 (AssertionError: mask values): got TypeError: chunked_overlay()*",
            "*not the expected failure of xf.txt:3 (AssertionError: mask values): got AssertionError: mask shape: b",
        ]
    )
    results = {r["key"]: r for r in json.loads((report / "report.json").read_text())["results"]}
    assert results["test_failing.py::test_values"]["outcome"] == "xfailed"
    assert results["test_failing.py::test_values"]["xfail"] == "xf.txt:1"
    assert results["test_failing.py::test_any_type"]["outcome"] == "xfailed"
    call_form = results["test_failing.py::test_call_form"]
    assert call_form["outcome"] == "failed" and call_form["xfail"] == "xf.txt:2"
    assert call_form["reason"] == "not the expected failure of xf.txt:2 (AssertionError: mask values)"
    assert call_form["message"].startswith("TypeError: chunked_overlay()")
    assert results["test_failing.py::test_group"]["outcome"] == "failed"
    outside = results["test_failing.py::test_outside"]
    assert outside["outcome"] == "failed" and outside["xfail"] is None and outside["xfail_outside"] == "xf.txt:4"


def test_failure_field_matches_types_by_class_and_bases():
    from layer_conformance.formats.xfails import failure_matches

    try:
        from builtins import ExceptionGroup
    except ImportError:  # Python 3.10: Hypothesis' backport
        from exceptiongroup import ExceptionGroup

    class Special(AssertionError):
        pass

    assert failure_matches("AssertionError: mask", Special("mask values"))
    assert failure_matches("AssertionError", Special("anything"))
    assert not failure_matches("AssertionError: mask", TypeError("mask"))
    assert failure_matches("TypeError, AssertionError: ^mask", TypeError("mask"))
    assert not failure_matches("TypeError: ^mask", TypeError("a mask"))
    assert failure_matches("*: mask", KeyError("mask"))
    group = ExceptionGroup("g", [AssertionError("mask a"), ExceptionGroup("h", [AssertionError("mask b")])])
    assert failure_matches("AssertionError: mask", group)
    assert not failure_matches("AssertionError: mask a", group)


def test_runtime_missing_part_is_reported_missing_and_fails_when_strict(suite, tmp_path):
    suite.makepyfile(
        test_parts="""
        from layer_conformance.support.checks import requires
        from layer_conformance.missing import missing

        @requires("Conv1D")
        def test_option(impl):
            missing("Conv1D(some_option)", impl)
        """
    )
    report = tmp_path / "report"
    result = suite.runpytest_inprocess("--impl", "myimpl", "test_parts.py", "-rs", f"--conformance-report={report}")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*missing: Conv1D(some_option) in myimpl*"])
    (entry,) = json.loads((report / "report.json").read_text())["results"]
    assert entry["outcome"] == "missing" and entry["reason"] == "missing: Conv1D(some_option) in myimpl"
    assert entry["apis"] == ["Conv1D"]
    strict = suite.runpytest_inprocess("--impl", "myimpl", "test_parts.py", "--strict-missing")
    strict.assert_outcomes(failed=1)
    strict.stdout.fnmatch_lines(["*missing: Conv1D(some_option) in myimpl (strict)*"])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("test_a.py::t | reason only", "ERROR: xf.txt:2: expected '<test pattern> | <reason> | <repro>*"),
        ("a.py::t | r | p | * | Not A Type: x", "ERROR: xf.txt:2: failure 'Not A Type: x' must read*"),
        ("a.py::t | r | p | * | TypeError: (", "ERROR: xf.txt:2: bad regular expression '(' in failure*"),
        ("a.py::t | r | p | * | TypeError | extra", "ERROR: xf.txt:2: expected*"),
        ("justaname | r | p", "ERROR: xf.txt:2: test pattern 'justaname' must look like '<file>::<test>'"),
        ("a.py::t |  | p", "ERROR: xf.txt:2: expected*"),
        ("a.py::t | r | p | <=>5", "ERROR: xf.txt:2: bad version specifier '<=>5'"),
    ],
)
def test_malformed_xfails_file_is_a_one_line_error_naming_file_and_line(suite, content, message):
    (suite.path / "xf.txt").write_text("# header\n" + content + "\n")
    result = suite.runpytest_inprocess("--impl", "myimpl", "--xfails-file", "myimpl=xf.txt")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_xfails_file_for_an_unselected_implementation_is_an_error(suite):
    (suite.path / "xf.txt").write_text("")
    result = suite.runpytest_inprocess("--xfails-file", "other=xf.txt")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --xfails-file other=xf.txt: no implementation named 'other' is selected"])


def test_unreadable_xfails_file_is_an_error(suite):
    result = suite.runpytest_inprocess("--impl", "myimpl", "--xfails-file", "myimpl=nope.txt")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: nope.txt: cannot read xfails file*"])


# --------------------------------------------------------------------------- guard

LEAKY_IMPL = textwrap.dedent(
    """
    import torch
    from layer_conformance.reference import Conv1D as _Conv1D

    class Conv1D(_Conv1D):
        def __init__(self, nf, nx):
            super().__init__(nf, nx)
            torch.set_default_dtype(torch.float64)
    """
)

GUARD_PROPS = textwrap.dedent(
    """
    import torch
    from hypothesis import given, strategies as st
    from layer_conformance.support.checks import requires

    @requires("Conv1D")
    @given(st.integers(1, 3))
    def test_builds_layer(impl, n):
        impl.Conv1D(n, n)

    def test_dtype_is_restored():
        assert torch.get_default_dtype() == torch.float32

    @requires()
    @given(st.integers(0, 3))
    def test_rng_is_seeded_per_example(impl, n):
        # the guard seeds torch's global RNG identically before every example
        expected = torch.rand((), generator=torch.Generator().manual_seed(0))
        assert torch.rand(()) == expected
    """
)


def test_guard_fails_the_leaking_property_only_and_restores_state(pytester):
    pytester.makepyfile(test_guard=GUARD_PROPS, leaky=LEAKY_IMPL)
    pytester.syspathinsert()
    result = pytester.runpytest_inprocess("--impl", "leaky", "-p", "no:randomly")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        ["*GlobalStateLeak: the example left global state changed: default dtype torch.float64*"]
    )


def test_guard_restores_registries_after_each_example():
    import torch

    from layer_conformance.plugin.guard import example_guard

    class Registry:
        _global_mapping = {"sdpa": len}

    class Impl:
        obj = type("NS", (), {"AttentionInterface": Registry})()

    with example_guard(Impl()):
        Registry._global_mapping["test-key"] = print
        Registry._global_mapping["sdpa"] = max
        torch.rand(3)
    assert Registry._global_mapping == {"sdpa": len}
