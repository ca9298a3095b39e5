"""Reports, repro scripts, stale expected failures, the baseline gate and --conformance-dtype."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from layer_conformance.formats.example import DecodeError, decode, encode, replayable
from layer_conformance.formats.report import FORMAT
from layer_conformance.strategies import AttentionCase, Geometry, MaskSpec

ROOT = Path(__file__).resolve().parent.parent
CONV1D = str(ROOT / "conformance" / "properties" / "test_conv1d.py")
CHUNKING = str(ROOT / "conformance" / "properties" / "test_chunking.py")
BASE = ["-p", "no:cacheprovider", "-p", "no:randomly", "--hypothesis-profile=selftest"]


@pytest.fixture
def run(pytester: pytest.Pytester):
    pytester.syspathinsert(ROOT)
    pytester.syspathinsert()

    def _run(*args: str) -> pytest.RunResult:
        return pytester.runpytest_inprocess(*BASE, *args)

    return _run


def test_report_json_and_markdown(run, tmp_path):
    result = run(
        CONV1D,
        "--impl",
        "reference",
        "--impl",
        "tests.broken.conv1d_bias_ignored",
        "--conformance-report",
        str(tmp_path),
    )
    result.assert_outcomes(passed=10, failed=4)
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["format"] == FORMAT
    assert report["versions"]["torch"] == torch.__version__ and report["versions"]["layer_conformance"]
    assert report["hypothesis"]["profile"] == "selftest" and report["hypothesis"]["derandomize"] is True
    assert [i["name"] for i in report["implementations"]] == ["reference", "tests.broken.conv1d_bias_ignored"]
    assert report["summary"] == {
        "reference": {"passed": 7},
        "tests.broken.conv1d_bias_ignored": {"passed": 3, "failed": 4},
    }
    failed = {r["key"]: r for r in report["results"] if r["outcome"] == "failed"}
    assert set(failed) == {
        "test_conv1d.py::test_forward_equals_linear_with_transposed_weight",
        "test_conv1d.py::test_gradients_equal_linear",
        "test_conv1d.py::test_accepts_non_contiguous_input",
        "test_conv1d.py::test_matches_reference",
    }
    for r in failed.values():
        assert r["apis"] == ["Conv1D"] and r["repro"] and r["example"]["replayable"]
    assert failed["test_conv1d.py::test_matches_reference"]["message"].startswith("AssertionError: output vs reference")
    assert report["matrix"]["reference"]["Conv1D"]["test_conv1d.py::test_matches_reference"] == "passed"
    markdown = (tmp_path / "report.md").read_text()
    assert "| Conv1D | 7 passed | 3 passed, 4 failed |" in markdown
    assert "repro: `python repro_1.py`" in markdown
    result.stdout.fnmatch_lines(
        ["*matrix*", "Conv1D  reference: 7 passed; tests.broken.conv1d_bias_ignored: 3 passed, 4 failed"]
    )


def _repro(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(path)], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_repro_scripts_reproduce_the_failure_and_not_a_fixed_one(run, tmp_path):
    run(CONV1D, "--impl", "tests.broken.conv1d_bias_ignored", "--conformance-report", str(tmp_path))
    report = json.loads((tmp_path / "report.json").read_text())
    failures = [r for r in report["results"] if r["outcome"] == "failed"]
    assert len(failures) == 4
    for r in failures:
        script = tmp_path / r["repro"]
        text = script.read_text()
        assert "import pickle" not in text and "torch.load(" not in text
        proc = _repro(script)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "reproduced: layer_conformance.properties.test_conv1d" in proc.stdout
        assert r["message"].split(":")[0] in proc.stdout  # the same assertion fails
        # the same example on the reference: it must not reproduce
        fixed = tmp_path / "fixed.py"
        fixed.write_text(text.replace('"impl": "tests.broken.conv1d_bias_ignored"', '"impl": "reference"'))
        proc = _repro(fixed)
        assert proc.returncode == 0 and "did not reproduce" in proc.stdout, proc.stdout + proc.stderr


def test_repro_replays_data_draws_and_embedded_tensors(run, tmp_path):
    run(
        CHUNKING,
        "--impl",
        "tests.broken.chunking_mutates_inputs",
        "-k",
        "inputs_not_mutated",
        "--conformance-report",
        str(tmp_path),
    )
    report = json.loads((tmp_path / "report.json").read_text())
    (failure,) = [r for r in report["results"] if r["outcome"] == "failed"]
    proc = _repro(tmp_path / failure["repro"])
    assert proc.returncode == 1 and "mutated its input tensor" in proc.stdout, proc.stdout + proc.stderr


def test_malformed_repro_example_is_a_one_line_error_naming_file_and_line(tmp_path):
    script = tmp_path / "repro_x.py"
    script.write_text(
        'import sys\nfrom layer_conformance.tools.replay import main\nEXAMPLE = r"""\n{\n "format": oops\n}\n"""\nsys.exit(main(EXAMPLE, __file__))\n'
    )
    proc = _repro(script)
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert lines == [f"{script}:5: malformed example: Expecting value"], proc.stderr


def test_stale_expected_failure_is_reported_and_fails_under_strict_xfails(run, tmp_path, monkeypatch):
    monkeypatch.delenv("CI", raising=False)  # CI turns strictness on by default
    xf = tmp_path / "xf.txt"
    xf.write_text("test_conv1d.py::test_matches_reference[*] | was broken once | none\n")
    args = [CONV1D, "--impl", "reference", "--xfails-file", f"reference={xf}", "--conformance-report", str(tmp_path)]
    relaxed = run(*args, "-k", "matches_reference")
    assert relaxed.ret == pytest.ExitCode.OK
    relaxed.stdout.fnmatch_lines(["*stale expected failures*", "test_conv1d.py::test_matches_reference (reference)"])
    report = json.loads((tmp_path / "report.json").read_text())
    assert [r["outcome"] for r in report["results"]] == ["stale"]
    strict = run(*args, "-k", "matches_reference", "--strict-xfails")
    assert strict.ret == pytest.ExitCode.TESTS_FAILED


def test_baseline_gate_reports_regressions_and_improvements(run, tmp_path):
    good, bad = tmp_path / "good", tmp_path / "bad"
    run(CONV1D, "--impl", "reference", "--conformance-report", str(good))
    regressed = run(
        CONV1D,
        "--impl",
        "tests.broken.conv1d_bias_ignored",
        "--baseline",
        str(good / "report.json"),
        "--conformance-report",
        str(bad),
    )
    assert regressed.ret == pytest.ExitCode.TESTS_FAILED
    regressed.stdout.fnmatch_lines(
        [
            "regressions: 4",
            "  test_conv1d.py::test_accepts_non_contiguous_input (tests.broken.conv1d_bias_ignored): passed -> failed",
            "  test_conv1d.py::test_forward_equals_linear_with_transposed_weight (*): passed -> failed",
        ]
    )
    assert len(json.loads((bad / "report.json").read_text())["baseline"]["regressions"]) == 4
    improved = run(CONV1D, "--impl", "reference", "--baseline", str(bad / "report.json"))
    assert improved.ret == pytest.ExitCode.OK
    improved.stdout.fnmatch_lines(["regressions: 0", "*improvements: 4"])


def test_missing_names_are_regressions_only_when_strict(run, tmp_path, pytester):
    pytester.makepyfile(partial="from layer_conformance.reference import apply_chunking_to_forward\n")
    run(CONV1D, "--impl", "reference", "--conformance-report", str(tmp_path))
    baseline = str(tmp_path / "report.json")
    lax = run(CONV1D, "--impl", "partial", "--baseline", baseline)
    assert lax.ret == pytest.ExitCode.OK
    lax.stdout.fnmatch_lines(["regressions: 0"])
    strict = run(CONV1D, "--impl", "partial", "--baseline", baseline, "--strict-missing")
    assert strict.ret == pytest.ExitCode.TESTS_FAILED
    strict.stdout.fnmatch_lines(["regressions: 7"])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{\n  "format": \n}', "ERROR: *bad.json:3: not JSON: *"),
        ('{"format": "something else"}', "ERROR: *bad.json:1: not a layer-conformance report*"),
        ('{"format": "layer-conformance-report/1", "results": [{"key": 1}]}', "ERROR: *bad.json:1: 'results' must be*"),
    ],
)
def test_malformed_baseline_is_a_one_line_error_naming_file_and_line(run, tmp_path, content, message):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    result = run(CONV1D, "--baseline", str(bad))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_dtype_option_skips_unselected_dtypes_with_a_reason(run):
    pruning = str(ROOT / "conformance" / "properties" / "test_pruning.py")
    result = run(pruning, "--conformance-dtype", "float32", "-k", "keep_dtype", "-rs")
    result.assert_outcomes(passed=4, skipped=12)
    result.stdout.fnmatch_lines(
        ["layer-conformance: *dtypes float32*", "*dtype float16 not selected (--conformance-dtype)*"]
    )
    bad = run(pruning, "--conformance-dtype", "float8")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["ERROR: --conformance-dtype: unknown dtype(s) float8*"])


def test_serialize_round_trips_plain_data_and_refuses_foreign_classes():
    values = [
        torch.tensor([[1.5, float("nan")], [float("-inf"), 2.0]], dtype=torch.bfloat16),
        torch.arange(3),
        torch.float16,
        MaskSpec("chunked_causal", chunk=3, left_padding=(1, 2)),
        Geometry(1, 2, 3, 0, 0, ((True, False),)),
        AttentionCase(1, 1, 2, 3, 4, 8, 0, "boolean", 1, 0.5),
        (1, [2.5, None], {"a": frozenset({1})}),
    ]
    for value in values:
        back = decode(json.loads(json.dumps(encode(value))))
        if isinstance(value, torch.Tensor):
            assert back.dtype == value.dtype and torch.equal(back.nan_to_num(), value.nan_to_num())
        else:
            assert back == value
    assert not replayable(encode(lambda: 0))
    with pytest.raises(DecodeError, match="refusing to rebuild os:PathLike"):
        decode({"dataclass": {"class": "os:PathLike", "fields": {}}})
    with pytest.raises(DecodeError, match="unknown dtype"):
        decode({"tensor": {"dtype": "os.system", "shape": [1], "values": [1]}})
