"""A derandomized profile draws the same examples of a property wherever the suite runs from.

Hypothesis keys a parametrized test's derandomized examples by its node id (the path it was collected
from, the implementation's id) and mixes in literals of every imported "local" module; the plugin keys
them by the property's result key and turns the local literals off while a property runs
(:mod:`layer_conformance.plugin.profiles`).  Here the same properties run from the checkout, through
``--pyargs`` from another directory with a local module full of constants imported, and for a second
implementation: every run draws the same examples (the same number of them, per property).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRUNING = str(ROOT / "conformance" / "properties" / "test_pruning.py")
#: parametrized properties (Hypothesis gives them a node-id digest) that draw integers in small ranges
SELECT = "test_weight_and_bias_rules or test_pruned_layer_matches_reference"

LOCAL_CONSTANTS = """\
# a module of the project the suite runs in: Hypothesis would draw these literals now and then
SIZES = [1, 2, 3, 4, 5, 6, 7, 8, 2, 3, 5, 7]
SEEDS = [123456789, 987654321, 31337, 4242, 777, 65535, 2**31 - 1]
FLAGS = ["dim", "bias", "route", "conv1d", "linear"]
"""


def _examples(args: list[str], cwd: Path) -> list[str]:
    """The examples the run tried, in order, as Hypothesis prints them (``--hypothesis-verbosity verbose``: each
    example's arguments and what it drew from ``st.data()``), the implementation's name left out."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "CI")}
    env["PYTHONPATH"] = os.pathsep.join([str(cwd), str(ROOT)])
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-s", "--conformance-profile=ci"]
    command += ["--hypothesis-verbosity=verbose", "-k", SELECT, *args]
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    lines = [re.sub(r"<impl [^>]*>", "<impl>", line.lstrip(".")) for line in done.stdout.splitlines()]
    tried = [line for line in lines if line.startswith(("Trying", "Test case", "    ", "Draw ", ")"))]
    assert sum(line.startswith(("Trying", "Test case")) for line in tried) > 100, done.stdout[-2000:]
    return tried


def test_the_same_examples_from_a_checkout_an_install_another_project_and_another_implementation(tmp_path):
    checkout = _examples([PRUNING, "--impl=reference"], ROOT)
    (tmp_path / "local_constants.py").write_text(LOCAL_CONSTANTS)
    elsewhere = ["--pyargs", "layer_conformance", "-p", "local_constants"]
    for impl in ("reference", "tests.impls.names_only"):
        other = _examples([*elsewhere, f"--impl={impl}"], tmp_path)
        first = next((i for i, (a, b) in enumerate(zip(checkout, other, strict=False)) if a != b), None)
        assert first is None and len(other) == len(checkout), (
            f"{impl} run through --pyargs from a project with constants of its own tried other examples than the "
            f"reference run from the checkout: from line {first}, {other[first : first + 3] if first else other[-3:]} "
            f"instead of {checkout[first : first + 3] if first else checkout[-3:]}"
        )
