"""The pytest plugin (registered through the ``pytest11`` entry point).

* ``--impl SPEC`` (repeatable; or ``LAYER_CONFORMANCE_IMPL=spec1,spec2``) selects
  the implementations; every property runs once per implementation, whose name
  is part of the test id.  Default: ``reference``.
* A contract name an implementation lacks skips the properties that need it with
  ``missing: <name> in <impl>``; under ``--strict-missing`` or pytest's own
  ``--strict`` (pytest >= 9) it fails them instead; ``--deselect-missing`` drops
  them from the run.
* ``--xfails-file IMPL=PATH`` adds expected failures for one implementation, on
  top of the bundled ones (see :mod:`layer_conformance.xfails`).
* ``--device cpu|cuda`` picks the device of every tensor the properties build.
* Every example runs inside :func:`layer_conformance.guard.example_guard`.
* Hypothesis profiles ``dev`` (default), ``ci`` (default when ``CI`` is set),
  ``thorough``, ``gpu`` and ``selftest`` are registered here (see
  :mod:`layer_conformance.profiles`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from . import observations, profiles, runtime
from .contract import API
from .guard import example_guard, guarded
from .impls import Implementation, ImplError, load_implementation
from .xfails import XfailEntry, XfailFileError, bundled_entries, match, read_xfails

ENV_IMPL = "LAYER_CONFORMANCE_IMPL"
DEFAULT_IMPL = "reference"

_IMPLS = pytest.StashKey[list[Implementation]]()
_XFAILS = pytest.StashKey[dict[str, list[XfailEntry]]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("layer-conformance", "layer-conformance: implementation selection")
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
        help="extra expected failures for implementation IMPL (format: see layer_conformance.xfails)",
    )
    group.addoption(
        "--device",
        default="cpu",
        metavar="DEVICE",
        help="device for every tensor the properties build: cpu (default) or cuda",
    )


def _impl_specs(config: pytest.Config) -> list[str]:
    specs = config.getoption("impl")
    if not specs:
        env = os.environ.get(ENV_IMPL, "")
        specs = [s for s in (part.strip() for part in env.split(",")) if s]
    return specs or [DEFAULT_IMPL]


def strict_missing(config: pytest.Config) -> bool:
    if config.getoption("strict_missing"):
        return True
    try:
        return bool(config.getini("strict"))  # pytest >= 9: --strict / strict = true
    except ValueError:  # pragma: no cover - pytest < 9 has no such ini option
        return False


def pytest_sessionstart(session: pytest.Session) -> None:
    observations.reset()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "requires(*names): contract names the property needs; missing ones skip it (fail when strict)"
    )
    if config.getoption("hypothesis_profile", None) is None:
        profiles.load_default()
    try:
        runtime.set_device(config.getoption("device"))
    except RuntimeError as exc:
        raise pytest.UsageError(str(exc)) from None

    impls: list[Implementation] = []
    for spec in _impl_specs(config):
        try:
            impl = load_implementation(spec)
        except ImplError as exc:
            raise pytest.UsageError(str(exc)) from None
        if any(i.name == impl.name for i in impls):
            raise pytest.UsageError(f"--impl {spec}: selected twice")
        impls.append(impl)
    config.stash[_IMPLS] = impls

    xfails: dict[str, list[XfailEntry]] = {}
    try:
        for impl in impls:
            xfails[impl.name] = bundled_entries(impl.name)
        for item in config.getoption("xfails_file"):
            name, sep, path = item.partition("=")
            if not sep or not name or not path:
                raise pytest.UsageError(f"--xfails-file {item}: expected IMPL=PATH")
            if name not in xfails:
                raise pytest.UsageError(f"--xfails-file {item}: no implementation named {name!r} is selected")
            xfails[name] = read_xfails(path) + xfails[name]
    except XfailFileError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[_XFAILS] = xfails


def selected_implementations(config: pytest.Config) -> list[Implementation]:
    return config.stash[_IMPLS]


def pytest_report_header(config: pytest.Config) -> list[str]:
    import torch

    lines = [f"layer-conformance: torch {torch.__version__}, device {runtime.device()}"]
    tf = sys.modules.get("transformers")
    if tf is not None:
        lines[0] += f", transformers {getattr(tf, '__version__', '?')}"
    for impl in config.stash.get(_IMPLS, []):
        missing = impl.missing()
        line = f"  impl {impl.name}: version {impl.version or 'unknown'} from {impl.origin}"
        for key, value in impl.details.items():
            line += f"; {key}: {value}"
        lines.append(line)
        if missing:
            lines.append(f"    missing ({len(missing)}): {', '.join(missing)}")
    return lines


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "impl" in metafunc.fixturenames:
        impls = selected_implementations(metafunc.config)
        if metafunc.config.getoption("deselect_missing") and not strict_missing(metafunc.config):
            # not even collected: cheaper than deselecting (parameter-level requirements are left to
            # pytest_collection_modifyitems)
            needed = [n for mark in metafunc.definition.iter_markers("requires") for n in mark.args]
            impls = [i for i in impls if all(i.has(n) for n in needed)]
        metafunc.parametrize("impl", impls, ids=[i.name for i in impls])


def _item_impl(item: pytest.Item) -> Implementation | None:
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return None
    impl = callspec.params.get("impl")
    return impl if isinstance(impl, Implementation) else None


def required_names(item: pytest.Item) -> list[str]:
    names: list[str] = []
    for mark in item.iter_markers("requires"):
        for name in mark.args:
            if name not in API:
                raise pytest.UsageError(f"{item.nodeid}: requires({name!r}) is not a contract name")
            if name not in names:
                names.append(name)
    return names


def test_key(item: pytest.Item) -> str:
    """The string xfail patterns match: ``<file>::<test name with parameter ids>``."""
    return f"{Path(str(item.path)).name}::{item.name}"


def missing_reason(item: pytest.Item) -> str | None:
    """``missing: <name> in <impl>`` for each contract name the item needs and its implementation lacks."""
    impl = _item_impl(item)
    if impl is None:
        return None
    missing = [name for name in required_names(item) if not impl.has(name)]
    return "; ".join(f"missing: {name} in {impl.name}" for name in missing) or None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    xfails = config.stash[_XFAILS]
    strict = strict_missing(config)
    if config.getoption("deselect_missing") and not strict:
        deselected = [item for item in items if missing_reason(item) is not None]
        if deselected:
            config.hook.pytest_deselected(items=deselected)
            items[:] = [item for item in items if missing_reason(item) is None]
    for item in items:
        fn = getattr(item, "obj", None)
        handle = getattr(fn, "hypothesis", None)
        if handle is not None:
            handle.inner_test = guarded(handle.inner_test)
        impl = _item_impl(item)
        if impl is None:
            continue
        item.user_properties.append(("impl", impl.name))
        reason = missing_reason(item)
        if reason is not None and not strict:
            item.add_marker(pytest.mark.skip(reason=reason))
            continue
        entry = match(xfails.get(impl.name, []), test_key(item), impl.version)
        if entry is not None:
            item.add_marker(
                pytest.mark.xfail(reason=f"{entry.reason} [repro: {entry.repro}] ({entry.source})", strict=True)
            )


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> None:
    """Under strictness a missing name is a failure of the property itself (not a setup error)."""
    if strict_missing(pyfuncitem.config):
        reason = missing_reason(pyfuncitem)
        if reason is not None:
            pytest.fail(reason + " (strict)", pytrace=False)


@pytest.hookimpl(wrapper=True, specname="pytest_pyfunc_call")
def _guard_plain_tests(pyfuncitem: pytest.Function) -> Any:
    if getattr(pyfuncitem.obj, "hypothesis", None) is not None:
        return (yield)  # guarded per example through inner_test
    with example_guard(pyfuncitem.funcargs.get("impl")):
        return (yield)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    seen = observations.observed()
    if not seen:
        return
    terminalreporter.section("layer-conformance: observed behaviours")
    for impl, per in sorted(seen.items()):
        for what, outcomes in sorted(per.items()):
            terminalreporter.line(f"{impl}: {what}: {'; '.join(outcomes)}")
