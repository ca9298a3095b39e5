"""The plugin's command-line options, and the few questions asked of them.

Registering these options is all the installed plugin does in a run that does
not ask for the suite (:mod:`layer_conformance.plugin.activation`).  This module
imports nothing but pytest and the standard library.

The generic words (device, dtype, profile) carry a ``conformance-`` prefix so
that they never collide with a project's own ``--device`` option in the same
environment.
"""

from __future__ import annotations

import os

import pytest

__all__ = [
    "DEFAULT_IMPL",
    "ENV_IMPL",
    "add_options",
    "impl_specs",
    "strict_missing",
    "strict_xfails",
]

ENV_IMPL = "LAYER_CONFORMANCE_IMPL"
DEFAULT_IMPL = "reference"


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("layer-conformance", "layer-conformance")
    group.addoption(
        "--impl",
        action="append",
        default=None,
        metavar="SPEC",
        help="implementation to test: reference (default), transformers, an entry point name in group "
        f"layer_conformance.impls, or package.module[:attr]; repeatable. Also ${ENV_IMPL} (comma-separated).",
    )
    group.addoption(
        "--strict-missing",
        action="store_true",
        default=False,
        help="fail (instead of skip) the properties of contract names an implementation lacks; "
        "pytest's own --strict (pytest >= 9) does the same",
    )
    group.addoption(
        "--deselect-missing",
        action="store_true",
        default=False,
        help="deselect (instead of skip) the properties of contract names an implementation lacks",
    )
    group.addoption(
        "--xfails-file",
        action="append",
        default=[],
        metavar="IMPL=PATH",
        help="extra expected failures for implementation IMPL (format: see layer_conformance.formats.xfails)",
    )
    group.addoption(
        "--strict-xfails",
        action="store_true",
        default=False,
        help="a stale expected failure (one that passes) fails the run; on by default when $CI is set",
    )
    group.addoption(
        "--conformance-device",
        default=None,
        metavar="DEVICE",
        help="device for every tensor the properties build: cpu (default) or cuda",
    )
    group.addoption(
        "--conformance-dtype",
        default=None,
        metavar="DTYPES",
        help="comma-separated dtypes the properties may use (float64,float32,float16,bfloat16); default all",
    )
    group.addoption(
        "--conformance-profile",
        default=None,
        metavar="NAME",
        help="Hypothesis profile of the suite's properties only: dev (default), ci (default when $CI is set), "
        "thorough, gpu, selftest. Hypothesis' own --hypothesis-profile applies to every test instead",
    )
    group.addoption(
        "--attention-backend",
        action="append",
        default=None,
        metavar="KEY",
        help="attention backend the attention properties judge: a key of the implementation's AttentionInterface "
        "(sdpa, flex_attention, a kernel you registered) or eager; repeatable; 'all' for every key that can run on "
        "the device; default eager and sdpa",
    )
    group.addoption(
        "--attention-compile",
        default="eager",
        choices=("eager", "compiled"),
        help="backends their implementation compiles (flex_attention): run them eagerly, the same code on torch's "
        "reference kernels with no compilation (default), or compiled as models run them (slow on the CPU)",
    )
    group.addoption(
        "--example-timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="fail an example that runs longer (a hanging implementation); 0 disables; default 60",
    )
    group.addoption(
        "--conformance-report", default=None, metavar="DIR", help="write report.json, report.md and repro scripts here"
    )
    group.addoption(
        "--baseline",
        default=None,
        metavar="REPORT",
        help="compare with a saved report.json: properties that passed there and fail, error or crash now fail the run",
    )


#: Options whose use alone asks for the suite (:mod:`layer_conformance.plugin.activation`).
ACTIVATING = (
    "impl",
    "conformance_report",
    "baseline",
    "xfails_file",
    "conformance_profile",
    "conformance_device",
    "conformance_dtype",
    "attention_backend",
)


def impl_specs(config: pytest.Config) -> list[str]:
    """The ``--impl`` values, else ``$LAYER_CONFORMANCE_IMPL``, else the reference."""
    specs = config.getoption("impl")
    if not specs:
        env = os.environ.get(ENV_IMPL, "")
        specs = [s for s in (part.strip() for part in env.split(",")) if s]
    return specs or [DEFAULT_IMPL]


def _pytest_strict(config: pytest.Config) -> bool:
    try:
        return bool(config.getini("strict"))  # pytest >= 9: --strict / strict = true
    except ValueError:  # pragma: no cover - pytest < 9 has no such ini option
        return False


def strict_missing(config: pytest.Config) -> bool:
    return bool(config.getoption("strict_missing")) or _pytest_strict(config)


def strict_xfails(config: pytest.Config) -> bool:
    return bool(config.getoption("strict_xfails") or os.environ.get("CI")) or _pytest_strict(config)
