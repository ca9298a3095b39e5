"""Self-test configuration.

pytester's in-process runs restore ``sys.modules`` afterwards, and some torch
modules register native operators when first imported: imported inside one inner
run, dropped, then imported again by the next, they fail ("Only a single
TORCH_LIBRARY can be used...").  Importing them here, once, keeps them out of
the snapshots.
"""

import importlib
import pkgutil

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
