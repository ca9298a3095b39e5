"""When the plugin does anything: only in a run that asks for the suite.

Installed, the plugin is loaded by every pytest run in the environment (the
``pytest11`` entry point).  It registers its options and stays inert -- no torch
import, no Hypothesis profile loaded or changed, no garbage-collector freeze, no
traceback-style change, no reordering -- unless the run asks for the suite:

* it names ``--impl`` (or sets ``$LAYER_CONFORMANCE_IMPL``), ``--conformance-report``,
  ``--baseline``, ``--xfails-file`` or one of the ``--conformance-*`` options; or
* one of its arguments is the suite's package or lies inside it
  (``pytest --pyargs layer_conformance``, ``pytest conformance/properties/test_masks.py``,
  ``layer-conformance``, or plain ``pytest`` in this repository, whose
  ``testpaths`` is the package); or
* collection reaches one of the suite's modules anyway (``pytest`` run on a
  directory above the package): the plugin activates just before that module
  is collected; or
* collection reaches a project's own property: a test taking ``impl`` and
  marked with the suite's ``requires(...)`` marker.

In other runs the installed plugin registers its options and its marker
(``requires``) and nothing else.  This module imports nothing but the standard
library and pytest.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from . import options

__all__ = [
    "PACKAGE",
    "PACKAGE_DIR",
    "PROPERTIES_DIR",
    "RECORD",
    "in_suite",
    "is_xdist_controller",
    "plugin_name",
    "requested",
]

PACKAGE = "layer_conformance"
#: The name under which reports carry their record (:mod:`layer_conformance.plugin.records`).
RECORD = PACKAGE


def plugin_name(job: str) -> str:
    """The name a job of the plugin is registered under with pytest (``-p no:<name>`` blocks it)."""
    return f"{PACKAGE}.{job}"


#: The directory of the installed ``layer_conformance`` package (``conformance/`` in a checkout).
PACKAGE_DIR = Path(__file__).resolve().parent.parent
#: The directory of the properties (``layer_conformance.properties``).
PROPERTIES_DIR = PACKAGE_DIR / "properties"


def in_suite(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is the suite's package directory or lies inside it."""
    try:
        resolved = Path(path).resolve()
    except OSError:  # pragma: no cover - unresolvable paths are not ours
        return False
    return resolved == PACKAGE_DIR or PACKAGE_DIR in resolved.parents


def _names_the_suite(config: pytest.Config, arg: str) -> bool:
    target = arg.split("::", 1)[0]
    if not target:
        return False
    if config.getoption("pyargs", False) and (target == PACKAGE or target.startswith(PACKAGE + ".")):
        return True
    for base in (config.invocation_params.dir, config.rootpath):
        candidate = Path(target) if os.path.isabs(target) else Path(base) / target
        if candidate.exists():
            return in_suite(candidate)
    return False


def requested(config: pytest.Config) -> bool:
    """Whether this run asks for the suite by its options, environment or arguments."""
    if any(config.getoption(name, None) for name in options.ACTIVATING):
        return True
    if os.environ.get(options.ENV_IMPL, "").strip():
        return True
    return any(_names_the_suite(config, str(arg)) for arg in config.args)


def is_xdist_controller(config: pytest.Config) -> bool:
    """Whether this process hands the tests to pytest-xdist workers (and runs none itself)."""
    if hasattr(config, "workerinput"):
        return False
    if config.pluginmanager.has_plugin("dsession"):
        return True
    # before xdist's own (trylast) pytest_configure registered its session: decide as it will
    dist = getattr(config.option, "dist", "no")
    return bool(
        dist and dist != "no" and getattr(config.option, "numprocesses", None) and not config.option.collectonly
    )
