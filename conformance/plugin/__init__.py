"""The pytest plugin of layer-conformance (the ``pytest11`` entry point ``layer_conformance``).

Installed, it registers its options and does nothing else unless a run asks
for the suite (:mod:`.activation` says when); then :mod:`.session` sets up the
machinery, one module per job:

============== ==============================================================
module         job
============== ==============================================================
options        the command-line options
activation     when the plugin does anything; the names its jobs register under
session        what activation sets up, where (runner or xdist controller)
selection      which property runs for which implementation: parametrization,
               missing names, dtype skips, expected failures, order
plan           what selection decided for one property (a leaf: the others
               read it)
profiles       the Hypothesis profiles of the suite's properties, and examples
               keyed by property, not by path
guard          the per-example guard: state restored, time limit, examples
               counted, failing example kept
records        one structured record per test report, sent with it (what the
               per-test channel, :mod:`layer_conformance.channel`, collected)
results        the outcomes, built from records (and xdist crashes); summary
surface_check  the surface no property exercises, per implementation
gate           ``--baseline``: regressions against a saved report
speedups       opt-out speed-ups (``-p no:layer_conformance.speedups``)
============== ==============================================================

Pytest hooks only: the formats it writes (report, examples, xfail lines) are in
:mod:`layer_conformance.formats`, and nothing outside this package imports it.
The properties never import this package; they import
:mod:`layer_conformance.support`, the shared model, the reference and the
strategies.  This module imports nothing but pytest, the standard library and
the marker names.
"""

from __future__ import annotations

import pytest

from ..markers import MARKERS
from . import activation, options
from .activation import plugin_name

__all__: list[str] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add_options(parser)


@pytest.hookimpl(tryfirst=True, specname="pytest_configure")
def pytest_configure_suite_profile(config: pytest.Config) -> None:
    """``--hypothesis-profile thorough`` (one of the suite's names): Hypothesis loads the profile in its
    own ``pytest_configure``; register the suite's first, where the run asks for the suite."""
    if config.getoption("hypothesis_profile", None) and activation.requested(config):
        from . import profiles

        profiles.register_requested(config)


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    for line in MARKERS.values():
        config.addinivalue_line("markers", line)
    if activation.requested(config):
        from .session import activate

        activate(config)
    elif activation.is_xdist_controller(config):
        config.pluginmanager.register(_WatchForRecords(config), plugin_name("watch"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A project's own test marked ``requires(...)`` or ``attention_backend(...)`` taking ``impl``: a
    property, in a run that did not ask for the suite otherwise."""
    marked = any(metafunc.definition.get_closest_marker(m) is not None for m in MARKERS)
    if "impl" not in metafunc.fixturenames or not marked:
        return
    from .session import ACTIVE, activate

    if not metafunc.config.stash.get(ACTIVE, False):
        activate(metafunc.config)
        selection = metafunc.config.pluginmanager.get_plugin(plugin_name("selection"))
        if selection is not None:  # this call of the hook began before selection was registered
            selection.pytest_generate_tests(metafunc)


def pytest_collectstart(collector: pytest.Collector) -> None:
    """Collection reached one of the suite's modules in a run that did not ask for it by name."""
    if isinstance(collector, pytest.Module) and activation.in_suite(collector.path):
        from .session import ACTIVE, activate

        if not collector.config.stash.get(ACTIVE, False):
            activate(collector.config)


class _WatchForRecords:
    """On an xdist controller of a run that did not ask for the suite: activate when the first report
    carrying a record arrives (a worker's collection reached the suite), and hand it that report."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not any(len(e) == 2 and e[0] == activation.RECORD for e in getattr(report, "user_properties", ())):
            return
        from .session import activate

        self.config.pluginmanager.unregister(self)
        activate(self.config)
        results = self.config.pluginmanager.get_plugin(plugin_name("results"))
        if results is not None:
            results.pytest_runtest_logreport(report)
