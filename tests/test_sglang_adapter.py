"""The SGLang adapter (``layer_conformance.adapters.sglang``) on the fake SGLang of ``tests/fakesglang``, which CI can
hold (the real library brings its own torch; ``tests/test_seeded_libraries.py`` and ``tox -e ecosystem`` run it):

* with no variable set by hand, the adapter selects SGLang's CPU engine itself where there is no CUDA device (the
  fake, like SGLang, cannot build a rotary module without it) and says so once, in the session header and the
  report's facts;
* SGLang imported before the adapter could select the engine is a one-line usage error saying what to set;
* every module is built fresh: ``get_rope``'s memo is left as it was found, and a module memoised for the same
  arguments is not the one judged.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.inner import run_installed

ROOT = Path(__file__).resolve().parent.parent
FAKESGLANG = ROOT / "tests" / "fakesglang"
ENGINE = "SGLANG_USE_CPU_ENGINE"
ROTATION = "test_rope.py::test_rotation_matches_the_float64_definition"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != ENGINE}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(FAKESGLANG), str(ROOT), os.environ.get("PYTHONPATH")]))
    return env


@pytest.fixture(autouse=True)
def _no_cuda():
    import torch

    if torch.cuda.is_available():
        pytest.skip("the engine is selected only where there is no CUDA device")


def test_the_adapter_selects_the_cpu_engine_and_says_so_once(tmp_path, monkeypatch):
    monkeypatch.delenv(ENGINE, raising=False)
    out = tmp_path / "report"
    done, report = run_installed(
        tmp_path, out, "--impl", "sglang", "-k", "test_rotation_matches and (default or linear)", paths=(FAKESGLANG,)
    )
    assert done.returncode == 0, done.stdout[-3000:]
    outcomes = {r["key"]: r["outcome"] for r in report["results"]}
    assert outcomes[f"{ROTATION}[default-half]"] == outcomes[f"{ROTATION}[linear-interleaved]"] == "passed", outcomes
    (facts,) = report["implementations"]
    assert facts["engine"] == f"CPU ({ENGINE}=1, set by the adapter: no CUDA device here)"
    header = [line for line in done.stdout.splitlines() if line.startswith("  impl sglang:")]
    assert len(header) == 1 and "engine: CPU" in header[0], done.stdout[:2000]


def test_sglang_imported_before_the_adapter_is_a_one_line_error(tmp_path):
    plugin = tmp_path / "early_import.py"
    plugin.write_text("import sglang.srt.layers.rotary_embedding  # noqa: F401\n")
    command = [sys.executable, "-m", "pytest", "--pyargs", "layer_conformance", "-p", "no:cacheprovider"]
    command += ["-p", "early_import", "--impl", "sglang", "-k", "default"]
    env = _env()
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), env["PYTHONPATH"]])
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 4, done.stdout[-2000:] + done.stderr[-2000:]
    (line,) = [line for line in done.stderr.splitlines() if "--impl sglang" in line]
    assert "imported before the adapter could select its CPU engine" in line and f"{ENGINE}=1" in line


SCRIPT = """
import torch
from layer_conformance.impls import load_implementation
from layer_conformance.canonical import RopeConfig

impl = load_implementation("sglang")  # selects the engine before SGLang is imported
from sglang.srt.layers.rotary_embedding import factory

config = RopeConfig(rope_type="default", rope_theta=10000.0, head_dim=8, max_position_embeddings=16)
served = impl.obj.rope_config(config)
stale = factory.get_rope(8, 8, 16, 10000.0, True, dict(served.rope_parameters), torch.float32)
stale.cos_sin_cache.zero_()  # a module an earlier caller changed, memoised for the very arguments the adapter passes
memo = dict(factory._ROPE_DICT)
query = torch.randn(1, 2, 4, 8)
out, _ = impl.obj.rotary_embedding(served, query, query.clone(), torch.arange(4)[None])
assert factory._ROPE_DICT == memo, "the memo changed"
assert not torch.equal(out, torch.zeros_like(out)), "the memoised module was judged"
print("ok")
"""


def test_every_module_is_built_fresh_and_the_memo_left_as_found(tmp_path):
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=tmp_path, env=_env(), capture_output=True, text=True)
    assert done.stdout.strip().endswith("ok"), done.stdout[-2000:] + done.stderr[-2000:]
