"""Activation: what the plugin sets up once a run asks for the suite.

Two kinds of process take part in a run:

* where the properties run (the only process of a serial run, each
  pytest-xdist worker): the implementations are loaded (and with them torch),
  the run-wide choices are made (device, dtypes, example timeout, the suite's
  Hypothesis profile), and the jobs are registered -- selection
  (:mod:`.selection`), the guard (:mod:`.guard`), the records (:mod:`.records`),
  the speed-ups (:mod:`.speedups`); a serial run also collects the results
  (:mod:`.results`); a worker sends the run's facts to the controller;
* the pytest-xdist controller, which runs no property: it checks the
  ``--impl`` values without importing them (:func:`layer_conformance.impls.check_spec`),
  reads the xfails files and the baseline, and collects the results from the
  workers' reports.  For the built-in implementations (reference, transformers)
  and entry points it never imports torch, so the workers start sooner; an
  ``--impl module[:attr]`` is imported there too, since only the import can
  tell some usage errors and a worker's would end the run with a traceback.

Usage errors (a bad ``--impl``, a malformed xfails file or baseline) are
one-line ``pytest.UsageError`` messages in either.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata as md
import json
import os
import sys
from typing import Any

import pytest

from .. import __version__
from ..formats.report import ReportError, load_report
from ..formats.xfails import XfailEntry, XfailFileError, bundled_entries, design_entries, read_xfails
from ..impls import ImplError, check_spec, is_module_spec, load_implementation
from . import options
from .activation import is_xdist_controller, plugin_name
from .results import FACTS, Results

__all__ = ["ACTIVE", "activate"]

ACTIVE = pytest.StashKey[bool]()


def _version(dist: str) -> str | None:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None


def _xfails(config: pytest.Config, names: list[str]) -> dict[str, list[XfailEntry]]:
    xfails: dict[str, list[XfailEntry]] = {}
    try:
        for name in names:
            xfails[name] = bundled_entries(name)
        for item in config.getoption("xfails_file"):
            name, sep, path = item.partition("=")
            if not sep or not name or not path:
                raise pytest.UsageError(f"--xfails-file {item}: expected IMPL=PATH")
            if name not in xfails:
                raise pytest.UsageError(f"--xfails-file {item}: no implementation named {name!r} is selected")
            xfails[name] = read_xfails(path) + xfails[name]
    except XfailFileError as exc:
        raise pytest.UsageError(str(exc)) from None
    return xfails


def _baseline(config: pytest.Config) -> dict[str, Any] | None:
    if not config.getoption("baseline"):
        return None
    try:
        return load_report(config.getoption("baseline"))
    except ReportError as exc:
        raise pytest.UsageError(str(exc)) from None


def _profile_name(config: pytest.Config) -> str:
    """The suite's profile by name, without importing Hypothesis (see :mod:`.profiles`)."""
    return (
        config.getoption("conformance_profile", None)
        or config.getoption("hypothesis_profile", None)
        or ("ci" if os.environ.get("CI") else "dev")
    )


def activate(config: pytest.Config) -> None:
    """Set the suite up for this run (once)."""
    if config.stash.get(ACTIVE, False):
        return
    config.stash[ACTIVE] = True
    if is_xdist_controller(config):
        _Controller(config)
    else:
        _Runner(config)


class _Controller:
    """The pytest-xdist controller's part: checks, results, report; no torch."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        specs = []
        for spec in options.impl_specs(config):
            try:
                spec = check_spec(spec)
                if is_module_spec(spec):
                    # a module: only importing it tells a missing attribute, an import that raises or
                    # a module without contract names; a usage error from a worker would be a traceback
                    load_implementation(spec)
            except ImplError as exc:
                raise pytest.UsageError(str(exc)) from None
            if spec in specs:
                raise pytest.UsageError(f"--impl {spec}: selected twice")
            specs.append(spec)
        self.specs = specs
        _xfails(config, specs)  # malformed files are usage errors here too
        results = Results(config, _baseline(config), facts=None, fallback_facts=self.facts)
        config.pluginmanager.register(results, plugin_name("results"))
        config.pluginmanager.register(self, plugin_name("controller"))

    def facts(self) -> dict[str, Any]:
        """What the controller knows when no worker sent the run's facts."""
        return {
            "implementations": [
                {"name": s, "origin": "?", "version": None, "missing": [], "loaded": False} for s in self.specs
            ],
            "versions": {
                "python": sys.version.split()[0],
                "torch": _version("torch"),
                "transformers": _version("transformers"),
                "hypothesis": _version("hypothesis"),
                "layer_conformance": __version__,
            },
            "device": self.config.getoption("conformance_device") or "cpu",
            "hypothesis": {
                "profile": _profile_name(self.config),
                "seed": self.config.getoption("hypothesis_seed", None),
            },
        }

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        return [
            f"layer-conformance: implementations {', '.join(self.specs)}; device "
            f"{config.getoption('conformance_device') or 'cpu'}; profile {_profile_name(config)} "
            "(loaded in the workers: see the summary)"
        ]


class _Runner:
    """Where the properties run: implementations, run-wide choices and the jobs."""

    def __init__(self, config: pytest.Config) -> None:
        from .. import runtime
        from ..backends import expand
        from ..implementation import Implementation
        from . import guard, profiles, speedups
        from .records import Recorder
        from .selection import Selection

        self.config = config
        self.saved = (runtime.device(), runtime.dtypes(), runtime._SETTINGS, runtime.attention_compile())
        try:
            runtime.set_device(config.getoption("conformance_device") or "cpu")
            runtime.set_dtypes(config.getoption("conformance_dtype"))
            runtime.set_attention_compile(config.getoption("attention_compile") or "eager")
        except (RuntimeError, ValueError) as exc:
            raise pytest.UsageError(str(exc)) from None
        self.profile, chosen = profiles.choose(config)
        self.chosen = chosen
        runtime.set_hypothesis_settings(chosen)
        self.suite_settings = profiles.SuiteSettings(chosen)

        impls: list[Implementation] = []
        for spec in options.impl_specs(config):
            try:
                impl = load_implementation(spec)
            except ImplError as exc:
                raise pytest.UsageError(str(exc)) from None
            if any(i.name == impl.name for i in impls):
                raise pytest.UsageError(f"--impl {spec}: selected twice")
            impls.append(impl)
        self.impls = impls
        self._surfaces: dict[str, dict[str, Any]] = {}
        xfails = _xfails(config, [i.name for i in impls])
        for impl in impls:  # after the bugs: a test a bug line covers is reported as that bug
            try:
                xfails[impl.name] += design_entries(impl.differences(), f"{impl.name}: DESIGN_DIFFERENCES")
            except (XfailFileError, TypeError) as exc:
                raise pytest.UsageError(f"--impl {impl.name}: {exc}") from None
        baseline = _baseline(config)
        requested = [k.strip() for v in config.getoption("attention_backend") or [] for k in v.split(",") if k.strip()]
        self.backends, self.backends_left_out = expand(requested, impls, runtime.device().type)

        pm = config.pluginmanager
        pm.register(Selection(config, impls, xfails, self.suite_settings, self.backends), plugin_name("selection"))
        pm.register(guard.GuardHooks(config.getoption("example_timeout")), plugin_name("guard"))
        pm.register(Recorder(str(runtime.device())), plugin_name("records"))
        if not pm.is_blocked(speedups.NAME):
            pm.register(speedups.Speedups(config), speedups.NAME)
        if not hasattr(config, "workerinput"):
            pm.register(Results(config, baseline, facts=self.facts, fallback_facts=self.facts), plugin_name("results"))
        pm.register(self, plugin_name("runner"))

    def surface(self, impl: Any) -> dict[str, Any]:
        """The implementation's surface (:mod:`.surface_check`), listed once per run."""
        from .surface_check import facts_of

        if impl.name not in self._surfaces:
            self._surfaces[impl.name] = facts_of(impl)
        return self._surfaces[impl.name]

    def facts(self) -> dict[str, Any]:
        import hypothesis
        import torch

        from .. import runtime

        tf = sys.modules.get("transformers")
        return {
            "implementations": [
                {
                    "name": i.name,
                    "origin": i.origin,
                    "version": i.version,
                    "missing": i.missing(),
                    **({"missing_reasons": reasons} if (reasons := i.missing_reasons()) else {}),
                    **(
                        {"differences": [dataclasses.asdict(d) for d in declared]}
                        if (declared := i.differences())
                        else {}
                    ),
                    **i.details,
                    "surface": self.surface(i),
                }
                for i in self.impls
            ],
            "versions": {
                "python": sys.version.split()[0],
                "torch": torch.__version__,
                "transformers": getattr(tf, "__version__", None) if tf is not None else _version("transformers"),
                "hypothesis": hypothesis.__version__,
                "layer_conformance": __version__,
            },
            "device": str(runtime.device()),
            "attention_backends": {"selected": self.backends, "left_out": self.backends_left_out},
            "hypothesis": {
                "profile": self.profile,
                "seed": self.config.getoption("hypothesis_seed", None),
                "derandomize": self.chosen.derandomize,
                "max_examples": self.chosen.max_examples,
            },
        }

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        import torch

        from .. import runtime

        lines = [f"layer-conformance: torch {torch.__version__}, device {runtime.device()}"]
        tf = sys.modules.get("transformers")
        if tf is not None:
            lines[0] += f", transformers {getattr(tf, '__version__', '?')}"
        if runtime.dtypes() is not None:
            lines[0] += f", dtypes {','.join(str(d).removeprefix('torch.') for d in runtime.dtypes())}"
        lines[0] += f", profile {self.profile}"
        lines.append(
            f"  attention backends: {', '.join(self.backends)}"
            + (f" (compiled ones run {runtime.attention_compile()})" if runtime.attention_compile() != "eager" else "")
        )
        for left in self.backends_left_out:
            lines.append(f"    left out: {left}")
        for impl in self.impls:
            missing = impl.missing()
            line = f"  impl {impl.name}: version {impl.version or 'unknown'} from {impl.origin}"
            for key, value in impl.details.items():
                line += f"; {key}: {value}"
            lines.append(line)
            if missing:
                lines.append(f"    missing ({len(missing)}): {', '.join(missing)}")
        return lines

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        workeroutput = getattr(self.config, "workeroutput", None)
        if workeroutput is not None:
            workeroutput[FACTS] = json.dumps(self.facts())

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """Run-wide choices are module state: put them back (in-process sessions)."""
        from .. import runtime

        device, dtypes, settings, compile_mode = self.saved
        runtime.restore(device, dtypes)
        runtime.set_hypothesis_settings(settings)
        runtime.set_attention_compile(compile_mode)
        self.suite_settings.restore()
