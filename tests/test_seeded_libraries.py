"""Each adapter hands what its library computes to the verdict: a bug seeded into the library itself
(``tests/seeded``) makes a row fail that passes, or shows only its known bug, without it.

The rows are judged by the explicit examples alone (Hypothesis profile ``explicit-only``, nothing drawn), so
that the bug is found whatever the seed.  Each case needs its library: the fake one (``tests/fakelib``) runs
everywhere, CI included; a real library absent here is skipped with how to get it.  In the library's environment (``layer-conformance
sweep <library>`` makes one; or ``pip install`` the adapter's ``install`` line beside the suite), from a
checkout of the suite::

    python -m pytest tests/test_seeded_libraries.py
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from layer_conformance.impls import adapter
from tests.inner import run_installed

ROOT = Path(__file__).resolve().parent.parent
FAKELIB = ROOT / "tests" / "fakelib"
#: a small library shaped like SGLang's get_rope, reached by the real SGLang adapter (tests/fakesglang)
FAKESGLANG = ROOT / "tests" / "fakesglang"
ROTATION = "test_rope.py::test_rotation_matches_the_float64_definition[{}]"
#: (library, the seeded bug, the result it must fail, directories put first on the path: the fake library's)
SEEDED = [
    # the fake libraries, which CI has: fakerope's init functions read off its rotation (tests/fakelib), and the
    # SGLang adapter on the fake SGLang (tests/fakesglang: CI cannot hold SGLang's own torch)
    ("fakerope", "fakerope_turns_backwards", "test_rope.py::test_init_function_matches_reference[default]", ()),
    ("sglang", "sglang_positions_off_by_one", ROTATION.format("default-half"), (FAKESGLANG,)),
    ("vllm", "vllm_positions_off_by_one", ROTATION.format("default-half"), ()),
    ("torchtune", "torchtune_positions_off_by_one", ROTATION.format("default-interleaved"), ()),
    ("torchtitan", "torchtitan_positions_off_by_one", ROTATION.format("default-half"), ()),
    ("megatron", "megatron_turns_backwards", ROTATION.format("default-half"), ()),
    ("mlx_lm", "mlx_lm_positions_off_by_one", ROTATION.format("default-half"), ()),
    ("mlx_lm", "mlx_lm_attention_drops_sinks", "test_attention.py::test_sinks_follow_the_declared_rule[mlx]", ()),
    ("sglang", "sglang_positions_off_by_one", ROTATION.format("default-half"), ()),
]


def outcome(tmp_path: Path, library: str, key: str, *plugin: str, where: tuple[Path, ...] = ()) -> dict:
    name = key.split("::")[1].split("[")[0]
    variant = key[key.index("[") + 1 : -1]
    args = ["--impl", library, "-p", "tests._explicit_only", "--hypothesis-profile=explicit-only"]
    args += ["-k", f"{name} and {variant}", *plugin]
    out = tmp_path / ("seeded" if plugin else "plain")
    _, report = run_installed(tmp_path, out, *args, paths=(*where, FAKELIB), env={"FAKEROPE_VERSION": "1.1"})
    (result,) = [r for r in report["results"] if r["key"] == key]
    return result


@pytest.mark.parametrize(
    ("library", "bug", "key", "where"), SEEDED, ids=[f"fake_{bug}" if where else bug for _, bug, _, where in SEEDED]
)
def test_a_bug_seeded_in_the_library_fails_its_row_whatever_the_seed(tmp_path, monkeypatch, library, bug, key, where):
    for path in (FAKELIB, *where):
        monkeypatch.syspath_prepend(str(path))  # the fake library (and its adapter) is found as the real ones are
    found = adapter(library)
    absent = [m for m in found.requires if importlib.util.find_spec(m) is None]
    if absent:
        pytest.skip(f"{', '.join(absent)} is not installed here: {found.install}")
    plain = outcome(tmp_path, library, key, where=where)
    assert plain["outcome"] in ("passed", "xfailed", "differs"), plain
    seeded = outcome(tmp_path, library, key, "-p", f"tests.seeded.{bug}", where=where)
    assert seeded["outcome"] == "failed", seeded
    assert seeded["message"].startswith("AssertionError"), seeded
