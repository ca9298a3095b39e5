"""The pytest plugin (registered through the ``pytest11`` entry point).

Selection
  ``--impl SPEC`` (repeatable; or ``LAYER_CONFORMANCE_IMPL=spec1,spec2``) selects
  the implementations; every property runs once per implementation, whose name
  is part of the test id.  Default: ``reference``.
Missing names
  A contract name an implementation lacks skips the properties that need it with
  ``missing: <name> in <impl>``; under ``--strict-missing`` or pytest's own
  ``--strict`` (pytest >= 9) it fails them; ``--deselect-missing`` drops them.
Expected failures
  ``--xfails-file IMPL=PATH`` adds expected failures for one implementation on top
  of the bundled ones (:mod:`layer_conformance.xfails`).  An expected failure that
  passes is *stale*: reported, and a failure of the run under ``--strict-xfails``,
  ``--strict`` or when the ``CI`` environment variable is set.
Devices and dtypes
  ``--device cpu|cuda`` places every tensor; ``--dtype float32,bfloat16`` limits
  the dtypes properties draw (a property left with none is skipped).
Reports and the gate
  ``--conformance-report DIR`` writes report.json, report.md and repro scripts;
  ``--baseline report.json`` fails the run on regressions against a saved report
  (:mod:`layer_conformance.report`).  The terminal summary shows the matrix.
Every example runs inside :func:`layer_conformance.guard.example_guard`.
Hypothesis profiles are registered by :mod:`layer_conformance.profiles`.
"""

from __future__ import annotations

import gc
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from . import guard, observations, profiles, runtime
from .contract import API
from .guard import example_guard, guarded, pop_failure, record_failure
from .impls import Implementation, ImplError, load_implementation
from .report import (
    BaselineError,
    Result,
    build_report,
    classify,
    compact_lines,
    compare,
    error_message,
    load_report,
    skip_reason_of,
    write_report,
)
from .repro import make_example
from .xfails import XfailEntry, XfailFileError, bundled_entries, match, read_xfails

# Hypothesis captures the active profile when a test is decorated: load ours as soon as the plugin is
# imported, so that a property imported before pytest_configure never runs under Hypothesis' own
# default profile (its 200 ms deadline fails the first, CUDA-initialising, example of a worker).
# --hypothesis-profile still loads the chosen profile in pytest_configure.
profiles.load_default()

ENV_IMPL = "LAYER_CONFORMANCE_IMPL"
DEFAULT_IMPL = "reference"

_IMPLS = pytest.StashKey[list[Implementation]]()
_XFAILS = pytest.StashKey[dict[str, list[XfailEntry]]]()
_COLLECTOR = pytest.StashKey["ResultCollector"]()
_SAVED = pytest.StashKey[dict[str, Any]]()
_FROZE = pytest.StashKey[bool]()


def pytest_addoption(parser: pytest.Parser) -> None:
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
        help="extra expected failures for implementation IMPL (format: see layer_conformance.xfails)",
    )
    group.addoption(
        "--strict-xfails",
        action="store_true",
        default=False,
        help="a stale expected failure (one that passes) fails the run; on by default when $CI is set",
    )
    group.addoption(
        "--device", default="cpu", metavar="DEVICE", help="device for every tensor the properties build: cpu or cuda"
    )
    group.addoption(
        "--dtype",
        default=None,
        metavar="DTYPES",
        help="comma-separated dtypes the properties may use (float64,float32,float16,bfloat16); default all",
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
        help="compare with a saved report.json: properties that passed there and fail now fail the run",
    )


def _impl_specs(config: pytest.Config) -> list[str]:
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


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    observations.reset()
    _freeze(session.config)  # the xdist controller collects nothing: freeze here too


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "requires(*names): contract names the property needs; missing ones skip it (fail when strict)"
    )

    # registered first, so run last: after pytest's own cleanups (its five garbage collections at exit)
    config.add_cleanup(lambda: _unfreeze(config))
    # run-wide settings are module state: put them back when this session ends (in-process sessions)
    config.stash[_SAVED] = {
        "device": runtime.device(),
        "dtypes": runtime.dtypes(),
        "timeout": guard.EXAMPLE_TIMEOUT,
        "profile": _current_profile(),
    }
    if config.getoption("hypothesis_profile", None) is None:
        profiles.load_default()
    guard.EXAMPLE_TIMEOUT = config.getoption("example_timeout")
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None and "OMP_NUM_THREADS" not in os.environ:
        # xdist workers share the cores: one intra-op thread pool per core, not per worker (the tensors
        # here are tiny; oversubscribed thread pools only add contention)
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // int(workerinput.get("workercount", 1))))
    try:
        runtime.set_device(config.getoption("device"))
        runtime.set_dtypes(config.getoption("dtype"))
    except (RuntimeError, ValueError) as exc:
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

    baseline = None
    if config.getoption("baseline"):
        try:
            baseline = load_report(config.getoption("baseline"))
        except BaselineError as exc:
            raise pytest.UsageError(str(exc)) from None
    collector = ResultCollector(config, baseline)
    config.stash[_COLLECTOR] = collector
    config.pluginmanager.register(collector, "layer-conformance-results")


def _current_profile() -> str | None:
    import hypothesis

    getter = getattr(hypothesis.settings, "get_current_profile_name", None)  # hypothesis >= 6.122
    return getter() if getter is not None else getattr(hypothesis.settings, "_current_profile", None)


def pytest_unconfigure(config: pytest.Config) -> None:
    saved = config.stash.get(_SAVED, None)
    if saved is None:
        return
    import hypothesis

    runtime.restore(saved["device"], saved["dtypes"])
    guard.EXAMPLE_TIMEOUT = saved["timeout"]
    if saved["profile"] is not None:
        hypothesis.settings.load_profile(saved["profile"])


def selected_implementations(config: pytest.Config) -> list[Implementation]:
    return config.stash[_IMPLS]


def pytest_report_header(config: pytest.Config) -> list[str]:
    import torch

    lines = [f"layer-conformance: torch {torch.__version__}, device {runtime.device()}"]
    tf = sys.modules.get("transformers")
    if tf is not None:
        lines[0] += f", transformers {getattr(tf, '__version__', '?')}"
    if runtime.dtypes() is not None:
        lines[0] += f", dtypes {','.join(str(d).removeprefix('torch.') for d in runtime.dtypes())}"
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


def result_key(item: pytest.Item, impl: Implementation) -> str:
    """``<file>::<test name>`` with the implementation's id taken out of the parameters."""
    name = item.name
    for old, new in ((f"[{impl.name}]", ""), (f"[{impl.name}-", "["), (f"-{impl.name}]", "]"), (f"-{impl.name}-", "-")):
        if old in name:
            name = name.replace(old, new, 1)
            break
    return f"{Path(str(item.path)).name}::{name}"


def missing_reason(item: pytest.Item) -> str | None:
    """``missing: <name> in <impl>`` for each contract name the item needs and its implementation lacks."""
    impl = _item_impl(item)
    if impl is None:
        return None
    missing = [name for name in required_names(item) if not impl.has(name)]
    return "; ".join(f"missing: {name} in {impl.name}" for name in missing) or None


def _freeze(config: pytest.Config) -> None:
    """Move what exists now out of the garbage collector's sight, unless someone else (an outer session) froze.

    Every full collection walks every tracked object: torch alone brings some
    165,000 (300,000 once a checkpoint call has imported torch._dynamo), which
    made the collections during a run about a second of a 14-second suite,
    and pytest's own five collections at exit (looking for unraisable
    exceptions) another half second, in each process.  What exists at session
    start and after collection (modules, properties, implementations) lives
    to the end anyway.  ``gc.freeze`` keeps it out of later collections; the
    cleanup registered first in ``pytest_configure`` puts it back when the
    session ends (in-process sessions, the mutation runner), after pytest's
    own collections.
    """
    if not gc.isenabled() or (gc.get_freeze_count() and not config.stash.get(_FROZE, False)):
        return
    gc.collect()
    gc.freeze()
    config.stash[_FROZE] = True


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    _freeze(session.config)


def _unfreeze(config: pytest.Config) -> None:
    if config.stash.get(_FROZE, False):
        gc.unfreeze()
        config.stash[_FROZE] = False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    xfails = config.stash[_XFAILS]
    strict = strict_missing(config)
    if config.getoption("deselect_missing") and not strict:
        deselected = [item for item in items if missing_reason(item) is not None]
        if deselected:
            config.hook.pytest_deselected(items=deselected)
            items[:] = [item for item in items if missing_reason(item) is None]
    breadth_first(items)
    xfail_strict = strict_xfails(config)
    for item in items:
        fn = getattr(item, "obj", None)
        handle = getattr(fn, "hypothesis", None)
        if handle is not None:
            handle.inner_test = guarded(handle.inner_test)
        impl = _item_impl(item)
        if impl is None:
            continue
        item.user_properties.append(("impl", impl.name))
        item.user_properties.append(("key", result_key(item, impl)))
        item.user_properties.append(("apis", json.dumps(required_names(item))))
        reason = missing_reason(item)
        if reason is not None and not strict:
            item.add_marker(pytest.mark.skip(reason=reason))
            continue
        unselected = [
            str(v).removeprefix("torch.")
            for v in item.callspec.params.values()  # type: ignore[attr-defined]
            if isinstance(v, torch.dtype) and not runtime.dtype_allowed(v)
        ]
        if unselected:
            item.add_marker(pytest.mark.skip(reason=f"dtype {', '.join(unselected)} not selected (--dtype)"))
            continue
        entry = match(xfails.get(impl.name, []), test_key(item), impl.version)
        if entry is not None:
            item.add_marker(
                pytest.mark.xfail(reason=f"{entry.reason} [repro: {entry.repro}] ({entry.source})", strict=xfail_strict)
            )


def breadth_first(items: list[pytest.Item]) -> None:
    """Within each module, run the first case of every property before the second case of any: a bug
    shows up after one case per property, not after every parametrization of the properties before."""
    rounds: dict[tuple[str, str], int] = {}
    keys = {}
    module_order: dict[str, int] = {}
    for index, item in enumerate(items):
        module = str(getattr(item, "path", ""))
        module_order.setdefault(module, len(module_order))
        function = getattr(item, "originalname", item.name)
        n = rounds.get((module, function), 0)
        rounds[(module, function)] = n + 1
        keys[id(item)] = (module_order[module], n, index)
    items.sort(key=lambda item: keys[id(item)])


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    """Hypothesis formats every failing example it meets while searching and shrinking (to tell
    distinct errors apart) through pytest's configured traceback style; the default styles read the
    source of every frame and parse its whole file with ``ast``: about 0.3 s per failing example whose
    traceback runs through torch (``torch/nn/modules/module.py``, ``torch/utils/checkpoint.py``), so a
    crashing implementation took three times longer to report than a wrong one.  During the call the
    style is ``native`` (Python's own, read line by line); pytest's own report of the final failure,
    made after the call, uses the style chosen on the command line."""
    option = item.config.option
    style = getattr(option, "tbstyle", None)
    if style is None:
        return (yield)
    option.tbstyle = "native"
    try:
        return (yield)
    finally:
        option.tbstyle = style


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
        try:
            return (yield)
        except Exception:
            record_failure({k: v for k, v in pyfuncitem.funcargs.items() if k in pyfuncitem.fixturenames})
            raise


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if call.when == "setup":
        pop_failure()  # nothing from an earlier test may leak into this one
    if call.when == "call" and report.failed:
        failure = pop_failure()
        impl = _item_impl(item)
        if failure is not None and impl is not None and isinstance(item, pytest.Function):
            example = make_example(
                module=_importable_module(item),
                function=item.originalname,
                impl=impl.name,
                device=str(runtime.device()),
                failure=failure,
                message=error_message(str(report.longrepr)),
            )
            report.user_properties.append(("example", json.dumps(example)))
    return report


def _importable_module(item: pytest.Function) -> str:
    """The module of a property as an installed import path: ``layer_conformance.test_x`` even when
    pytest imported the file from a checkout under another name (``conformance.test_x``)."""
    from . import __file__ as package_init

    path = Path(str(item.path))
    if path.parent == Path(package_init).parent:
        return f"layer_conformance.{path.stem}"
    return item.obj.__module__


# --------------------------------------------------------------------------- results


class ResultCollector:
    """Classifies every test report (on the xdist controller too) and writes the report and summary."""

    def __init__(self, config: pytest.Config, baseline: dict[str, Any] | None) -> None:
        self.config = config
        self.baseline = baseline
        self.results: dict[str, Result] = {}
        self.comparison: dict[str, Any] | None = None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        props = dict(report.user_properties)
        impl = props.get("impl")
        if impl is None:
            return
        classified = classify(
            report.when,
            report.outcome,
            getattr(report, "wasxfail", None),
            str(report.longrepr or ""),
            skip_reason_of(report.longrepr) if report.skipped else "",
        )
        if classified is None:
            if report.nodeid in self.results and report.when == "call":
                self.results[report.nodeid].duration = report.duration
            return
        outcome, reason = classified
        apis = json.loads(props.get("apis", "[]"))
        if outcome == "missing":  # file it under the names that are missing, not the ones present
            apis = [a for a in apis if f"missing: {a} in " in reason] or apis
        existing = self.results.get(report.nodeid)
        if existing is not None and existing.outcome == "error":
            return  # an error in setup or teardown decides
        result = Result(
            nodeid=report.nodeid,
            key=props.get("key", report.nodeid),
            impl=impl,
            apis=apis,
            outcome=outcome,
            reason=reason,
            message=error_message(str(report.longrepr)) if outcome in ("failed", "error") else "",
            duration=report.duration,
        )
        if "example" in props:
            result.example = json.loads(props["example"])
        self.results[report.nodeid] = result

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if hasattr(self.config, "workerinput"):
            return  # xdist worker: the controller reports
        results = list(self.results.values())
        if self.baseline is not None:
            self.comparison = compare(
                self.baseline, results, path=self.config.getoption("baseline"), strict=strict_missing(self.config)
            )
            if self.comparison["regressions"] and session.exitstatus == pytest.ExitCode.OK:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED
        directory = self.config.getoption("conformance_report")
        if directory:
            write_report(self._report(results), Path(directory), results, self._versions_by_impl())
        stale = [r for r in results if r.outcome == "stale"]
        if stale and strict_xfails(self.config) and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _versions_by_impl(self) -> dict[str, str | None]:
        return {i.name: i.version for i in selected_implementations(self.config)}

    def _report(self, results: list[Result]) -> dict[str, Any]:
        import hypothesis
        import torch

        from . import __version__

        current = hypothesis.settings()
        tf = sys.modules.get("transformers")
        return build_report(
            results,
            implementations=[
                {"name": i.name, "origin": i.origin, "version": i.version, "missing": i.missing(), **i.details}
                for i in selected_implementations(self.config)
            ],
            versions={
                "python": sys.version.split()[0],
                "torch": torch.__version__,
                "transformers": getattr(tf, "__version__", None) if tf is not None else None,
                "hypothesis": hypothesis.__version__,
                "layer_conformance": __version__,
            },
            hypothesis={
                "profile": _current_profile(),
                "seed": self.config.getoption("hypothesis_seed", None),
                "derandomize": current.derandomize,
                "max_examples": current.max_examples,
            },
            device=str(runtime.device()),
            observed=observations.observed(),
            baseline=self.comparison,
        )

    def pytest_terminal_summary(self, terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
        results = list(self.results.values())
        if results:
            terminalreporter.section("layer-conformance: matrix (API: implementation outcomes)")
            for line in compact_lines(results):
                terminalreporter.line(line)
        stale = sorted(r.key + f" ({r.impl})" for r in results if r.outcome == "stale")
        if stale:
            terminalreporter.section("layer-conformance: stale expected failures (they pass: remove them)")
            for line in stale:
                terminalreporter.line(line)
        seen = observations.observed()
        if seen:
            terminalreporter.section("layer-conformance: observed behaviours")
            for impl, per in sorted(seen.items()):
                for what, outcomes in sorted(per.items()):
                    terminalreporter.line(f"{impl}: {what}: {'; '.join(outcomes)}")
        if self.comparison is not None:
            c = self.comparison
            terminalreporter.section(f"layer-conformance: against baseline {c['path']}")
            for title, entries in (
                ("regressions", c["regressions"]),
                ("known regressions (expected failures now)", c["known_regressions"]),
                ("missing now (not regressions unless strict)", c["newly_missing"]),
                ("improvements", c["improvements"]),
            ):
                terminalreporter.line(f"{title}: {len(entries)}")
                for e in entries:
                    terminalreporter.line(f"  {e['key']} ({e['impl']}): {e['before']} -> {e['after']}")
        directory = config.getoption("conformance_report")
        if directory and not hasattr(config, "workerinput"):
            terminalreporter.line(f"layer-conformance: report written to {directory}/report.md")
