"""Which property runs for which implementation, and how.

A *property* is a test of the suite's package, or any test marked with the
suite's ``requires(...)`` marker (:func:`layer_conformance.support.checks.requires`).
Its ``impl`` argument is parametrized with the selected implementations (their
names are the test ids), and its ``backend`` argument, if it has one, with the
selected attention backends (:mod:`layer_conformance.backends`; their keys are
the ids).  Nothing else in the run is touched.  After collection, for each
property:

* contract names its implementation lacks skip it with
  ``missing: <name> in <impl>`` (fail it under ``--strict-missing``/``--strict``;
  ``--deselect-missing`` leaves it out); so does a backend the implementation
  does not have (not registered, package absent, another device), and one whose
  call form the suite cannot drive is skipped with the reason;
* a dtype parameter outside ``--conformance-dtype`` skips it;
* the entries of the implementation's xfails that match it -- its bugs, then
  the differences its adapter declares by design -- mark it as an expected
  failure: every failure it shows must be one an entry describes (several
  distinct failures may each be another's; a failure none describes fails it,
  :mod:`.records`); entries for the same test outside their version range are
  kept in the plan, so that a failure they describe is reported as one;
* its :class:`~layer_conformance.plugin.plan.Plan` goes into the item's stash
  for the records.

Within each of the suite's modules, properties run breadth first (the first
case of every property before the second case of any); the order of every
other test is left alone.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch

from .. import runtime
from ..backends import BackendParam, Resolved, Unavailable, resolve
from ..contract import API
from ..formats.keys import result_key, test_key, with_file
from ..formats.xfails import XfailEntry
from ..implementation import Implementation
from ..markers import ATTENTION_BACKEND, MARKERS, REQUIRES
from . import options
from .activation import in_suite
from .plan import PLAN, Plan

__all__ = ["Selection", "breadth_first"]


def is_property(node: pytest.Item) -> bool:
    """A property: a test of the suite's package, or any test marked ``requires(...)`` or
    ``attention_backend(...)`` (the suite's markers; ``@requires()`` with no names makes a project's own
    test a property too)."""
    return in_suite(node.path) or any(node.get_closest_marker(m) is not None for m in MARKERS)


def item_impl(item: pytest.Item) -> Implementation | None:
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return None
    impl = callspec.params.get("impl")
    return impl if isinstance(impl, Implementation) else None


def required_names(item: pytest.Item) -> list[str]:
    names: list[str] = []
    for mark in item.iter_markers(REQUIRES):
        for name in mark.args:
            if name not in API:
                raise pytest.UsageError(f"{item.nodeid}: requires({name!r}) is not a contract name")
            if name not in names:
                names.append(name)
    return names


def item_backend(item: pytest.Item) -> BackendParam | None:
    callspec = getattr(item, "callspec", None)
    value = callspec.params.get("backend") if callspec is not None else None
    return value if isinstance(value, BackendParam) else None


def backend_parts(item: pytest.Item) -> tuple[str, ...]:
    """What a backend property uses of its backend: ``function`` (default) and/or ``builder``."""
    mark = item.get_closest_marker(ATTENTION_BACKEND)
    return tuple(mark.args) if mark is not None and mark.args else ("function",)


def _backend(item: pytest.Item, impl: Implementation) -> Resolved | Unavailable | None:
    param = item_backend(item)
    return None if param is None else resolve(impl, param.key, runtime.device().type)


def _missing(item: pytest.Item, impl: Implementation) -> tuple[list[str], str | None]:
    """(missing names, why) of a property for one implementation: contract names it lacks, or its backend."""
    names = [name for name in required_names(item) if not impl.has(name)]
    if names:
        return names, "; ".join(impl.missing_reason(name) for name in names)
    backend = _backend(item, impl)
    if isinstance(backend, Unavailable) and backend.outcome == "missing":
        return [backend.label], backend.reason
    if isinstance(backend, Resolved) and "builder" in backend_parts(item):
        reason = backend.builder_missing(impl.name)
        if reason is not None:
            return [backend.caps.builder_label], reason
    return [], None


def _apis(item: pytest.Item, impl: Implementation) -> list[str]:
    """The names a property's results are filed under: its contract names, and for a backend property the
    backend's function and/or mask builder (``AttentionInterface['flex_attention']``, ``sdpa_mask``)."""
    names = required_names(item)
    backend = _backend(item, impl)
    if backend is None:
        return names
    caps = backend.caps if isinstance(backend, Resolved) else None
    if caps is None:
        return [*names, backend.label]
    labels = {"function": caps.label, "builder": caps.builder_label}
    return [*names, *(labels[part] for part in backend_parts(item) if labels[part] not in names)]


def breadth_first(items: list[pytest.Item], ours: list[int]) -> None:
    """Reorder the items at positions ``ours`` (the suite's) among those positions: within each module,
    the first case of every property before the second case of any, so that a bug shows up after one
    case per property, not after every parametrization of the properties before.  Every other item
    keeps its place."""
    picked = [items[i] for i in ours]
    rounds: dict[tuple[str, str], int] = {}
    keys = {}
    module_order: dict[str, int] = {}
    for index, item in enumerate(picked):
        module = str(getattr(item, "path", ""))
        module_order.setdefault(module, len(module_order))
        function = getattr(item, "originalname", item.name)
        n = rounds.get((module, function), 0)
        rounds[(module, function)] = n + 1
        keys[id(item)] = (module_order[module], n, index)
    picked.sort(key=lambda item: keys[id(item)])
    for position, item in zip(ours, picked, strict=True):
        items[position] = item


class Selection:
    """The hooks that parametrize, skip, mark and plan the suite's properties (where they run)."""

    def __init__(
        self,
        config: pytest.Config,
        impls: list[Implementation],
        xfails: dict[str, list[XfailEntry]],
        suite: Any,
        backends: list[str],
    ) -> None:
        self.config = config
        self.impls = impls
        self.xfails = xfails
        self.suite_settings = suite
        self.backends = [BackendParam(key) for key in backends]

    def _ours(self, item: pytest.Item) -> bool:
        return item_impl(item) is not None and is_property(item)

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "impl" not in metafunc.fixturenames or not is_property(metafunc.definition):
            return
        impls = self.impls
        if metafunc.config.getoption("deselect_missing") and not options.strict_missing(metafunc.config):
            # not even collected: cheaper than deselecting (parameter-level requirements are left to
            # pytest_collection_modifyitems)
            needed = [n for mark in metafunc.definition.iter_markers(REQUIRES) for n in mark.args]
            impls = [i for i in impls if all(i.has(n) for n in needed)]
        metafunc.parametrize("impl", impls, ids=[i.name for i in impls])
        if "backend" in metafunc.fixturenames:
            metafunc.parametrize("backend", self.backends, ids=[b.key for b in self.backends])

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        strict = options.strict_missing(config)
        if config.getoption("deselect_missing") and not strict:
            drop = [item for item in items if self._ours(item) and _missing(item, item_impl(item))[0]]  # type: ignore[arg-type]
            if drop:
                config.hook.pytest_deselected(items=drop)
                dropped = {id(item) for item in drop}
                items[:] = [item for item in items if id(item) not in dropped]
        ours = [i for i, item in enumerate(items) if self._ours(item)]
        breadth_first(items, ours)
        xfail_strict = options.strict_xfails(config)
        for position in ours:
            item = items[position]
            impl = item_impl(item)
            assert impl is not None
            self.suite_settings.apply(getattr(item, "obj", None))
            missing, why = _missing(item, impl)
            nodeid = with_file(item.nodeid, str(item.path))
            plan = Plan(impl=impl.name, key=result_key(nodeid, impl.name), apis=_apis(item, impl), missing=missing)
            item.stash[PLAN] = plan
            if missing:
                plan.skip = why
                if not strict:
                    item.add_marker(pytest.mark.skip(reason=plan.skip))
                continue
            backend = _backend(item, impl)
            if isinstance(backend, Unavailable):  # a call form the suite cannot drive
                plan.skip = backend.reason
                item.add_marker(pytest.mark.skip(reason=plan.skip))
                continue
            unselected = [
                str(v).removeprefix("torch.")
                for v in item.callspec.params.values()  # type: ignore[attr-defined]
                if isinstance(v, torch.dtype) and not runtime.dtype_allowed(v)
            ]
            if unselected:
                plan.skip = f"dtype {', '.join(unselected)} not selected (--conformance-dtype)"
                item.add_marker(pytest.mark.skip(reason=plan.skip))
                continue
            entries = self.xfails.get(impl.name, [])
            key = test_key(nodeid)
            applying = [e for e in entries if e.applies(key, impl.version)]
            plan.expected = [
                {"reason": e.reason, "repro": e.repro, "source": e.source, "kind": e.kind, "failure": e.failure}
                for e in applying
            ]
            plan.xfail_elsewhere = [
                {"source": e.source, "failure": e.failure}
                for e in entries
                if e.covers(key) and not e.in_range(impl.version)
            ]
            if applying:
                entry = applying[0]
                what = "differs by design: " if entry.kind == "design" else ""
                where = "source" if entry.kind == "design" else "repro"
                item.add_marker(
                    pytest.mark.xfail(
                        reason=f"{what}{entry.reason} [{where}: {entry.repro}] ({entry.source})", strict=xfail_strict
                    )
                )

    @pytest.hookimpl(tryfirst=True)
    def pytest_pyfunc_call(self, pyfuncitem: pytest.Function) -> None:
        """Under strictness a missing name is a failure of the property itself (not a setup error)."""
        plan = pyfuncitem.stash.get(PLAN, None)
        if plan is not None and plan.missing and options.strict_missing(pyfuncitem.config):
            pytest.fail(f"{plan.skip} (strict)", pytrace=False)
