"""The release sweep: histories and the release where each property changed, xfail ranges against the releases,
bisection, and ``layer-conformance sweep`` end to end on two fake releases (two implementations of this
environment, ``tests/impls/release_1.py`` and ``release_2.py``: nothing is downloaded)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from layer_conformance.formats.xfails import parse_xfails
from layer_conformance.tools import cli, history, sweep
from layer_conformance.tools.history import Run

ROOT = Path(__file__).resolve().parent.parent


def fake_run(version: str, outcomes: dict[str, str], impl: str = "transformers", message: str = "") -> Run:
    """A run of ``impl`` at ``version`` whose properties (test names ``<key>[impl]``) had these outcomes."""
    results = []
    for key, outcome in outcomes.items():
        file, _, name = key.partition("::")
        results.append(
            {
                "key": key,
                "nodeid": f"{file}::{name}[{impl}]",
                "outcome": outcome,
                "message": message if outcome in ("failed", "xfailed") else "",
            }
        )
    return Run(version, report={"implementations": [{"name": impl, "version": version}], "results": results})


VERSIONS = ["4.55.4", "4.56.2", "5.0.0", "5.12.1", "5.13.1", "5.14.1"]


def runs_where(key: str, bad: set[str], *, bad_outcome: str = "xfailed", message: str = "AssertionError: x") -> list:
    return [fake_run(v, {key: bad_outcome if v in bad else "passed"}, message=message) for v in VERSIONS]


# --------------------------------------------------------------------------- histories


def test_history_names_the_release_where_each_outcome_starts():
    key = "test_rope.py::test_dynamic"
    outcomes = ["passed", "passed", "xfailed", "xfailed", "passed", "passed"]
    runs = [fake_run(v, {key: o, "test_a.py::test_same": "passed"}) for v, o in zip(VERSIONS, outcomes, strict=True)]
    changed = history.changes(runs)
    assert [k for k, _ in changed] == [key]  # a property with one outcome everywhere is no change
    text = history.describe(changed[0][1], VERSIONS)
    assert text == "passed 4.55.4-4.56.2, xfailed 5.0.0-5.12.1, passed from 5.13.1"
    assert history.by_release(runs) == [(2, [(key, "passed", "xfailed")]), (4, [(key, "xfailed", "passed")])]


def test_history_of_a_property_not_run_everywhere():
    key = "test_masks.py::test_bidirectional"
    runs = [fake_run(v, {key: "missing"} if v < "5" else {key: "passed"}) for v in VERSIONS]
    runs[-1] = fake_run(VERSIONS[-1], {})  # the property does not exist in the last release
    (found,) = history.changes(runs)
    assert history.describe(found[1], VERSIONS) == "missing 4.55.4-4.56.2, passed 5.0.0-5.13.1, not run from 5.14.1"


# --------------------------------------------------------------------------- xfail ranges


def entry(versions: str | None, failure: str | None = "AssertionError: x", pattern: str = "test_r.py::test_p[*]"):
    fields = [pattern, "a bug", "a repro", versions or "*"] + ([failure] if failure else [])
    return parse_xfails(" | ".join(fields), "xf.txt")[0]


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ({"5.0.0", "5.12.1"}, ">=5.0,<5.13"),  # minor boundaries on both sides
        ({"5.14.1"}, ">=5.14"),  # not fixed by the last release
        ({"4.55.4"}, "<4.56"),  # bad in the first release checked
        (set(VERSIONS), "*"),  # every release
    ],
)
def test_suggested_range_is_first_bad_to_first_fixed(bad, expected):
    runs = runs_where("test_r.py::test_p", bad)
    (check,) = history.check_xfails([("transformers", entry(expected))], runs)
    assert check.suggested == expected
    assert check.verdict == "agrees", check.problems


def test_a_patch_boundary_within_one_minor_release_is_written_exactly():
    statuses = ["good", "bad", "bad"]
    assert history.suggest_range(statuses, ["5.14.0", "5.14.1", "5.15.0"]) == ">=5.14.1"
    assert history.suggest_range(["bad", "good"], ["5.14.0", "5.14.1"]) == "<5.14.1"
    assert history.suggest_range(["bad", "-", "good"], ["5.13.0", "5.14.0", "5.15.1"]) == "<5.15"


def test_over_broad_range_is_stale_where_the_tests_pass():
    runs = runs_where("test_r.py::test_p", {"5.14.1"})
    (check,) = history.check_xfails([("transformers", entry("5.*"))], runs)
    assert check.verdict == "disagrees"
    assert check.problems == [f"stale in {v} (its tests pass: the range is too broad)" for v in VERSIONS[2:5]]
    assert check.suggested == ">=5.14"
    assert "the sweep gives >=5.14" in history.describe_check(check)


def test_narrow_range_is_reported_where_the_failure_shows_outside_it():
    runs = runs_where("test_r.py::test_p", {"4.55.4", "4.56.2"}, bad_outcome="failed")
    (check,) = history.check_xfails([("transformers", entry("<4.56"))], runs)
    assert check.problems == ["fails outside its range in 4.56.2 (the range is too narrow)"]
    assert check.suggested == "<5.0"


def test_another_failure_is_not_the_one_a_line_describes():
    runs = runs_where("test_r.py::test_p", {"4.55.4"}, bad_outcome="failed", message="TypeError: takes 1 argument")
    (check,) = history.check_xfails([("transformers", entry("<4.56"))], runs)
    assert check.statuses[0] == "-"  # a TypeError is neither the bug nor a pass
    assert check.verdict == "agrees"  # nothing contradicts the range: the run itself is unclean (failed)
    assert history.message_matches("TypeError: *, ValueError", "ValueError: no") is False
    assert history.message_matches("*: argument", "TypeError: takes 1 argument")
    assert history.message_matches("TypeError, ValueError: argu", "TypeError: takes 1 argument")


def test_lines_whose_tests_did_not_run_are_not_exercised():
    runs = runs_where("test_r.py::test_p", {"4.55.4"})
    (check,) = history.check_xfails([("transformers", entry(">=5.14", pattern="test_flex.py::test_f[*]"))], runs)
    assert check.verdict == "not exercised" and check.suggested is None


def test_lines_of_another_implementation_are_checked_against_its_runs_only():
    runs = runs_where("test_r.py::test_p", {"4.55.4"})
    (check,) = history.check_xfails([("other", entry("*"))], runs)
    assert check.statuses == ["-"] * len(VERSIONS)


def test_update_versions_rewrites_the_version_field_only():
    text = "# header\na.py::t | r | p | 5.*\r\nb.py::t | r | p\nc.py::t | r | p | * | TypeError\n"
    updated = history.update_versions(text, {2: ">=5.14", 3: "<4.56", 4: ">=5.0,<5.13"})
    assert updated == (
        "# header\na.py::t | r | p | >=5.14\r\nb.py::t | r | p | <4.56\nc.py::t | r | p | >=5.0,<5.13 | TypeError\n"
    )
    assert history.update_versions("a.py::t | r | p | 5.*\n", {1: "*"}) == "a.py::t | r | p\n"


def test_summary_round_trips_for_the_checks():
    runs = runs_where("test_r.py::test_p", {"5.0.0", "5.12.1"}, message="AssertionError: max_seq_len_cached")
    checks = history.check_xfails([("transformers", entry(">=5.0,<5.13", "AssertionError: max_seq"))], runs)
    data = json.loads(json.dumps(history.summary(runs, checks)))
    assert data["format"] == history.SWEEP_FORMAT
    assert data["changes"] == [
        {"key": "test_r.py::test_p", "history": "passed 4.55.4-4.56.2, xfailed 5.0.0-5.12.1, passed from 5.13.1"}
    ]
    again = history.check_xfails(
        [("transformers", entry(">=5.0,<5.13", "AssertionError: max_seq"))], history.runs_from_summary(data)
    )
    assert again[0].statuses == checks[0].statuses
    text = history.markdown(data)
    assert "| `test_r.py::test_p[*]` | a bug | 2 of 6 checked | 5.0.0 | 5.13.1 | - |" in text
    assert "- `test_r.py::test_p`: passed 4.55.4-4.56.2, xfailed 5.0.0-5.12.1, passed from 5.13.1" in text


# --------------------------------------------------------------------------- bisection


@pytest.mark.parametrize("pattern", ["aaaaaaaaaa", "aaaaabbbbb", "aabbbbbbbc", "abbbbbbbbbbbbbbbbbbb"])
def test_bisection_pins_every_change_between_consecutive_releases(pattern):
    def run_at(i: int) -> Run:
        return fake_run(str(i), {"test_a.py::test_x": {"a": "passed", "b": "failed", "c": "missing"}[pattern[i]]})

    ran = sweep.bisect(len(pattern), run_at)
    outcome = [pattern[i] for i in ran]
    changes = [(ran[j], ran[j + 1]) for j in range(len(ran) - 1) if outcome[j] != outcome[j + 1]]
    assert all(b == a + 1 for a, b in changes)  # every change pinned between two consecutive releases
    assert len(changes) == sum(pattern[i] != pattern[i + 1] for i in range(len(pattern) - 1))
    assert ran[0] == 0 and ran[-1] == len(pattern) - 1
    if len(set(pattern)) == 1:
        assert ran == [0, len(pattern) - 1]
    if len(pattern) == 20:
        assert len(ran) <= 7  # one change in 20 releases: about log2(20) runs, not 20


def test_bisection_assumes_no_change_between_equal_ends():
    pattern = "abbbbbbba"  # a change and a change back: equal ends, so the sweep must run them all to see it
    ran = sweep.bisect(len(pattern), lambda i: fake_run(str(i), {"t.py::t": "passed" if pattern[i] == "a" else "x"}))
    assert ran == [0, 8]


# --------------------------------------------------------------------------- the command


def test_usage_errors_are_one_line(capsys):
    assert cli.main(["sweep", "4.57.6", "--impl", "reference"]) == 2
    assert capsys.readouterr().err == "layer-conformance sweep: give releases or --impl implementations, not both\n"
    assert cli.main(["sweep", "latest"]) == 2
    assert "'latest' is neither a release (X.Y.Z, or X.Y for the latest patch) nor a library" in capsys.readouterr().err


def test_arguments_after_the_separator_go_to_pytest_and_xfails_files_to_their_implementation():
    args, pytest_args = sweep.parse(["5.12", "5.13", "--", "--attention-backend", "all", "-k", "rope"])
    assert args.releases == ["5.12", "5.13"] and pytest_args == ["--attention-backend", "all", "-k", "rope"]
    mixed = ["-k", "x", "--xfails-file", "a=1.txt", "--xfails-file=b=2.txt"]
    assert sweep._for_impl(mixed, "a") == ["-k", "x", "--xfails-file", "a=1.txt"]
    assert sweep._for_impl(mixed, "b") == ["-k", "x", "--xfails-file=b=2.txt"]


def test_sweep_of_two_fake_releases(tmp_path, monkeypatch, capsys):
    """Two implementations as two releases, end to end: a progress line each, the property that changed with
    the release where it changed, one report per release, sweep.json and the matrix; release 1 has a bug no
    xfail describes, so the sweep fails.  Then the same reports again (``--reuse``, nothing runs) with an
    xfails file: the xfail range check, and ``--update-xfails`` writing the range the releases give."""
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("CI", raising=False)
    out = tmp_path / "out"
    impls = ["--impl", "tests.impls.release_1", "--impl", "tests.impls.release_2", "--out", str(out), "-n", "0"]
    selection = ["--", "-k", "test_accepts_non_contiguous_input or test_forward_equals_linear"]
    code = cli.main(["sweep", *impls, *selection])
    printed = capsys.readouterr().out
    assert code == 1, printed  # release 1 fails a property
    lines = printed.splitlines()
    assert any(line.startswith("[1/2] implementation tests.impls.release_1 (1.0): suite ") for line in lines)
    assert any(line.endswith(": 1 passed, 1 failed") for line in lines), printed
    assert any(line.startswith("[2/2] implementation tests.impls.release_2 (2.0): suite ") for line in lines)
    assert (
        "test_conv1d.py::test_accepts_non_contiguous_input: failed in tests.impls.release_1, "
        "passed from tests.impls.release_2"
    ) in lines
    assert any(
        line.startswith("layer-conformance sweep: 2 run, 1 clean; not clean: tests.impls.release_1") for line in lines
    )
    for name in ("tests.impls.release_1", "tests.impls.release_2"):
        report = json.loads((out / name / "report.json").read_text())
        assert report["implementations"][0]["name"] == name
        assert (out / name / "pytest.log").exists()
    data = json.loads((out / "sweep.json").read_text())
    assert [r["version"] for r in data["runs"]] == ["1.0", "2.0"]
    matrix = (out / "matrix.md").read_text()
    assert "passed from tests.impls.release_2" in matrix and "## Releases" in matrix

    xfails = tmp_path / "xf.txt"
    xfails.write_text(
        "test_conv1d.py::test_accepts_non_contiguous_input[*] | view on a non-contiguous input | - | >=2 "
        "| RuntimeError: view size is not compatible\n"
    )
    again = ["--reuse", "--update-xfails", str(xfails), "--xfails-file", f"tests.impls.release_1={xfails}"]
    code = cli.main(["sweep", *impls, *again[:3], *selection, *again[3:]])
    printed = capsys.readouterr().out
    assert code == 1, printed
    assert "[1/2] implementation tests.impls.release_1 (1.0): report reused: 1 passed, 1 failed" in printed
    assert "== xfail ranges: 1 lines, 0 agree, 1 disagree, 0 not exercised ==" in printed
    assert (
        f"{xfails}:1 (>=2): disagrees: fails outside its range in 1.0 (the range is too narrow); the sweep gives *"
        in printed
    )
    assert f"xfails: {xfails}:1: version range set to *" in printed
    assert xfails.read_text().split(" | ")[3] == "*"
