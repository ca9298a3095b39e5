"""Self-test configuration.

pytester's in-process runs restore ``sys.modules`` afterwards, and some torch
modules register native operators when first imported: imported inside one inner
run, dropped, then imported again by the next, they fail ("Only a single
TORCH_LIBRARY can be used...").  Importing them here, once, keeps them out of
the snapshots.
"""

import importlib
import os
import pkgutil
from dataclasses import dataclass

import pytest
import torch  # noqa: F401

import layer_conformance

for _name in (
    "torch._dynamo",
    "torch.distributed.tensor",
    "torch.distributed._functional_collectives",
    "torch.fx.experimental.symbolic_shapes",
    "torch._subclasses.schema_check_mode",
    "torch.utils.checkpoint",
):
    importlib.import_module(_name)
for _module in pkgutil.walk_packages(layer_conformance.__path__, "layer_conformance."):
    importlib.import_module(_module.name)

pytest_plugins = ["pytester"]


@dataclass
class SuiteRun:
    """The inner session's reports, and the spy's lines (``<file>::<property>\t<surface item>``)."""

    reports: list[pytest.TestReport]
    spied: list[tuple[str, str]]


@pytest.fixture(scope="session")
def suite_run(tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    """Every property once, in one in-process session (``-n 2``), on the implementation exposing the contract
    names only, on the spy and on every broken implementation (shared by test_kills and test_surface)."""
    from tests.inner import BACKENDS, BROKEN, NAMES_ONLY, SPY, run_suite

    spy_file = tmp_path_factory.mktemp("spy") / "spied.tsv"
    spy_file.touch()
    saved = os.environ.get("LAYER_CONFORMANCE_SPY")
    os.environ["LAYER_CONFORMANCE_SPY"] = str(spy_file)  # the xdist workers inherit it
    try:
        reports = run_suite(
            "--hypothesis-profile=selftest",
            "--deselect-missing",
            "-n",
            "2",
            *[f"--attention-backend={key}" for key in BACKENDS],
            f"--impl={NAMES_ONLY}",
            f"--impl={SPY}",
            *[f"--impl=tests.broken.{name}" for name in BROKEN],
        )
    finally:
        if saved is None:
            os.environ.pop("LAYER_CONFORMANCE_SPY", None)
        else:
            os.environ["LAYER_CONFORMANCE_SPY"] = saved
    spied = [tuple(line.split("\t", 1)) for line in spy_file.read_text().splitlines() if "\t" in line]
    return SuiteRun(reports, spied)
