"""Another library as an implementation under test, end to end, on a small library written for the purpose
(``tests/fakelib``: fakerope and its adapter, registered by an entry point as a real adapter is).

fakerope 1.0 has a bug (its linear module's fast path raises ``IndexError``) and a rule of its own it documents
(positions past the model's context are clamped); 1.1 fixes the bug.  The adapter declares the rule, says why
each contract name fakerope lacks is missing, and leaves unjudged the inputs fakerope has no counterpart for
(the interleaved layout, a partial rotary factor).  What is checked:

* a rule declared by design is reported ``differs``; a bug of an xfails line ``xfailed``; a property showing
  both (two distinct failures) ``xfailed``, with both entries; a failure neither describes fails the test;
* examples the adapter cannot judge are discarded and counted; a property none of whose examples could be
  judged is ``missing``, with what every example needed;
* the reasons a library gives for a missing name reach the skip and the report;
* a malformed declaration is a one-line usage error naming it;
* ``layer-conformance sweep fakerope`` makes the library's environment from its adapter's recipe and writes
  the parity page.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from layer_conformance.tools import cli, sweep
from tests.inner import run_installed

ROOT = Path(__file__).resolve().parent.parent
FAKELIB = ROOT / "tests" / "fakelib"
ROTATION = "test_rope.py::test_rotation_matches_the_float64_definition"
#: the rotation for the two types fakerope has and one it lacks, and a property needing the name it lacks (dynamic_rope_update)
SELECTION = (
    f"{ROTATION.split('::')[1]} and (default or linear or dynamic) or test_decorator_changes_nothing_for_other_types"
)
BUG = f"{ROTATION}[*-linear-*] | the linear module's fast path raises | python repro.py | ==1.0 | IndexError: index_select"
DESIGN = "fakerope: DESIGN_DIFFERENCES[0]"


def library_env(version: str) -> dict[str, str]:
    path = os.pathsep.join(filter(None, [str(FAKELIB), str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, "FAKEROPE_VERSION": version}


def run(tmp_path: Path, version: str, *args: str) -> tuple[subprocess.CompletedProcess, dict[str, dict]]:
    """The selection on fakerope ``version`` in a pytest of its own; its output, and its results by key."""
    out = tmp_path / f"report-{version}"
    selection = ["--impl", "fakerope", "--conformance-profile", "ci", "-k", SELECTION, "-rs", *args]
    done, report = run_installed(tmp_path, out, *selection, paths=(FAKELIB,), env={"FAKEROPE_VERSION": version})
    return done, {r["key"]: r | {"facts": report["implementations"][0]} for r in report["results"]}


@pytest.fixture
def bug_line(tmp_path: Path) -> Path:
    path = tmp_path / "fakerope.txt"
    path.write_text(f"# fakerope's bugs\n{BUG}\n")
    return path


def test_a_bug_and_a_rule_by_design_are_told_apart(tmp_path, bug_line):
    done, results = run(tmp_path, "1.0", "--xfails-file", f"fakerope={bug_line}")
    assert done.returncode == 0, done.stdout
    linear, default = results[f"{ROTATION}[linear-half]"], results[f"{ROTATION}[default-half]"]
    # the linear row shows the bug and the clamp (two distinct failures): each is one of its entries
    assert linear["outcome"] == "xfailed"
    assert linear["xfail"] == f"{bug_line}:2; {DESIGN}"
    assert linear["reason"].startswith("the linear module's fast path raises; positions at or past max_position")
    assert linear["message"].startswith("IndexError: index_select")
    # the default row shows the clamp only: a difference by design, not a failure
    assert default["outcome"] == "differs" and default["xfail"] == DESIGN
    assert default["message"].startswith("AssertionError: rotated")

    # the same run on 1.1: the bug is fixed, the rule stays; the line (==1.0) does not apply
    done, results = run(tmp_path, "1.1", "--xfails-file", f"fakerope={bug_line}")
    assert done.returncode == 0, done.stdout
    assert {results[f"{ROTATION}[{t}-half]"]["outcome"] for t in ("default", "linear")} == {"differs"}
    assert results[f"{ROTATION}[linear-half]"]["xfail"] == DESIGN


def test_a_failure_no_entry_describes_fails(tmp_path):
    done, results = run(tmp_path, "1.0")  # the bug, with no line for it
    assert done.returncode == 1
    linear = results[f"{ROTATION}[linear-half]"]
    assert linear["outcome"] == "failed"
    assert linear["reason"] == f"not the expected failure of {DESIGN} (AssertionError: rotated (query|key))"
    assert linear["message"].startswith("IndexError: index_select")
    assert results[f"{ROTATION}[default-half]"]["outcome"] == "differs"


def test_what_the_library_cannot_judge_is_counted_and_what_it_lacks_is_missing_with_its_reason(tmp_path):
    done, results = run(tmp_path, "1.1")
    # a partial rotary factor in some examples: those are discarded, the others judged
    partial = "rotary_embedding (a partial rotary factor: it rotates every feature)"
    assert results[f"{ROTATION}[default-half]"]["unsupported"][partial] >= 1
    # the interleaved layout in every example: the property is missing, with what each example needed
    interleaved = results[f"{ROTATION}[default-interleaved]"]
    needed = "rotary_embedding(interleaved) (it has the half layout only)"
    assert interleaved["outcome"] == "missing"
    assert interleaved["reason"] == f"missing in fakerope, needed by every example: {needed}"
    assert interleaved["unsupported"][needed] >= 25
    # a type the library has no module for, and a name it lacks, with the reason its adapter gives
    assert results[f"{ROTATION}[dynamic-half]"]["reason"] == "missing: ROPE_INIT_FUNCTIONS['dynamic'] in fakerope"
    decorator = results["test_rope.py::test_decorator_changes_nothing_for_other_types"]
    why = "fakerope computes its cache once, when the module is built"
    assert decorator["outcome"] == "missing"
    assert decorator["reason"] == f"missing: dynamic_rope_update in fakerope ({why})"
    assert f"missing: dynamic_rope_update in fakerope ({why})" in done.stdout
    # the session facts: what it lacks and why, and the rules it declares, with their source
    facts = decorator["facts"]
    assert facts["missing_reasons"]["dynamic_rope_update"] == why
    assert facts["missing_reasons"]["Conv1D"] == "not in fakerope"
    (declared,) = facts["differences"]
    assert declared["source"].startswith("fakerope/__init__.py") and declared["failure"].startswith("AssertionError")
    report = (tmp_path / "report-1.1" / "report.md").read_text()
    assert "## Left unjudged" in report
    assert f"`fakerope` `{ROTATION}[default-interleaved]` (missing): {needed}: " in report


@pytest.mark.parametrize(
    ("difference", "message"),
    [
        ({"pattern": "test_rope", "rule": "r", "source": "s"}, "a difference needs a '<file>::<test>' pattern"),
        ({"pattern": "t.py::t", "rule": "", "source": "s"}, "a difference needs a '<file>::<test>' pattern, a rule"),
        ({"pattern": "t.py::t", "rule": "r", "source": "s", "failure": "Error: ("}, "bad regular expression"),
        ({"pattern": "t.py::t", "rule": "r"}, "missing 1 required positional argument: 'source'"),
    ],
)
def test_a_malformed_declaration_is_a_one_line_error_naming_it(pytester, difference, message):
    pytester.makepyfile(
        badlib=f"from layer_conformance.reference import Conv1D\nDESIGN_DIFFERENCES = [{difference!r}]\n"
    )
    pytester.syspathinsert()
    result = pytester.runpytest_inprocess("--impl", "badlib")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("ERROR: --impl badlib: "), errors
    assert message in errors[0]
    if "::" not in difference["pattern"] or not difference.get("rule"):
        assert "badlib: DESIGN_DIFFERENCES[0]: " in errors[0]


# --------------------------------------------------------------------------- the sweep


def test_a_library_target_gets_its_environment_from_its_adapters_recipe(tmp_path, monkeypatch):
    """The commands that make fakerope's environment: a venv, the pinned torch with the recipe's requirements
    (pip's find-links passed on to uv), what the recipe removes, then the suite."""
    monkeypatch.syspath_prepend(str(FAKELIB))
    monkeypatch.setenv("PIP_FIND_LINKS", "/wheels")
    monkeypatch.delenv("UV_FIND_LINKS", raising=False)
    recipe = SimpleNamespace(requirements=("fakerope==1.0",), remove=("torchvision",), own_torch=False)
    monkeypatch.setattr(sweep, "_recipe", lambda target: recipe if target == "fakerope" else None)
    args, _ = sweep.parse(["fakerope", "--envs", str(tmp_path), "--uv", "uv", "--python", "3.11"])
    assert args.releases == ["fakerope"]
    envs = sweep.Environments(args)
    calls: list[list[str]] = []
    monkeypatch.setattr(envs, "_call", lambda command, what: calls.append(command))
    python, note = envs.ensure("fakerope")
    assert note == "new" and envs.path("fakerope").name.endswith("-fakerope")
    assert envs.path("5.24.0").name.endswith("-transformers5.24.0")
    venv, install, remove, suite = calls
    assert venv[:2] == ["uv", "venv"]
    assert install[:3] == ["uv", "pip", "install"] and "--find-links=/wheels" in install
    assert envs.torch in install and "fakerope==1.0" in install
    assert not any(arg.startswith("transformers") for arg in install)
    assert remove[:3] == ["uv", "pip", "uninstall"] and remove[-1] == "torchvision"
    assert "--no-deps" in suite


def test_an_unknown_target_is_a_one_line_error(capsys):
    assert cli.main(["sweep", "nolib"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("layer-conformance sweep: 'nolib' is neither a release (X.Y.Z, or X.Y for the latest patch)")
    assert "vllm" in err and "torchtune" in err and err.count("\n") == 1


def test_sweep_of_a_library_writes_the_parity_page(tmp_path, monkeypatch, capsys, bug_line):
    """``layer-conformance sweep fakerope --parity PAGE`` (its environment: this one): the library's run, its
    bug from the xfails line with its repro, its rule by design with its source, what it lacks and why."""
    monkeypatch.syspath_prepend(str(FAKELIB))
    for name, value in library_env("1.0").items():
        monkeypatch.setenv(name, value)
    # the library's environment is this one, with fakerope on the path the sweep would otherwise clear
    monkeypatch.setattr(sweep.Environments, "ensure", lambda self, target: (Path(sys.executable), "cached"))
    monkeypatch.setattr(sweep, "_child_env", lambda: dict(os.environ))
    monkeypatch.chdir(tmp_path)
    page, out = tmp_path / "docs" / "ecosystem.md", tmp_path / "out"
    # --uv: the environment is never made (the sweep would otherwise need uv to find it)
    command = ["sweep", "fakerope", "--out", str(out), "-n", "0", "--parity", str(page), "--uv", "uv"]
    code = cli.main([*command, "--", "-k", SELECTION, "--xfails-file", f"fakerope={bug_line}"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "[1/1] library fakerope (1.0): env 0.0 s (cached), suite " in printed
    assert "== changes between consecutive releases" not in printed  # one library: no series
    assert f"{bug_line}:2 (==1.0): agrees" not in printed  # agreeing lines are not listed
    assert "1 lines, 1 agree" in printed

    text = page.read_text()
    import torch

    assert f"| fakerope | 1.0 | {torch.__version__} | 0 | 1 | 1 | 5 |" in text  # torch, passed, bug, design, missing
    assert "| `rotary_embedding` | default-half | ≠ design |" in text
    assert "| `rotary_embedding` | linear-half | ✗ bug |" in text
    assert "default-interleaved" not in text  # a row no library has anything of is left out
    assert "Missing in every library: `dynamic_rope_update`." in text
    assert "### fakerope 1.0: the linear module's fast path raises" in text
    assert "- **Repro** (imports the library alone): `python repro.py`" in text
    assert f"- **Recorded in**: `{bug_line}:2`" in text
    assert "Source: `fakerope/__init__.py: RotaryEmbedding.forward" in text
    assert "dynamic_rope_update` -- fakerope computes its cache once" in text
    assert f"Regenerate: `layer-conformance sweep fakerope --parity docs/ecosystem.md -- -k '{SELECTION}'" in text
    assert str(tmp_path) not in text.replace(str(bug_line), "")  # no path of this machine but the user's file
