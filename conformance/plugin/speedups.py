"""Start-up and run-time speed-ups of a conformance run; opt out with ``-p no:layer_conformance.speedups``.

Registered only when the plugin is active (:mod:`layer_conformance.plugin.activation`),
under a name of its own (:data:`NAME`), so that pytest's own ``-p no:NAME``
switches them off.  None of them changes a result:

* **Garbage-collector freeze.**  Every full collection walks every tracked
  object: torch alone brings some 165,000 (300,000 once a checkpoint call has
  imported torch._dynamo), which made the collections during a run about a
  second of a 14-second suite, and pytest's own five collections at exit
  (looking for unraisable exceptions) another half second, in each process.
  What exists at session start and after collection (modules, properties,
  implementations) lives to the end anyway; ``gc.freeze`` keeps it out of later
  collections.  The cleanup registered first puts it back when the session
  ends (in-process sessions), after pytest's own collections.
* **Native tracebacks while Hypothesis searches.**  Hypothesis formats every
  failing example it meets while searching and shrinking (to tell distinct
  errors apart) through pytest's configured traceback style; the default
  styles read the source of every frame and parse its whole file with
  ``ast``: about 0.3 s per failing example whose traceback runs through torch.
  During a property's call the style is ``native``; pytest's report of the
  final failure, made after the call, uses the style of the command line.
* **One intra-op thread pool per core** in pytest-xdist workers (unless
  ``OMP_NUM_THREADS`` is set): the tensors here are tiny; oversubscribed
  thread pools only add contention.
"""

from __future__ import annotations

import gc
import os
from typing import Any

import pytest

from .activation import plugin_name
from .plan import PLAN

__all__ = ["NAME", "Speedups"]

NAME = plugin_name("speedups")


class Speedups:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.froze = False
        # registered first, so run last: after pytest's own cleanups (its garbage collections at exit)
        config.add_cleanup(self._unfreeze)
        workerinput = getattr(config, "workerinput", None)
        if workerinput is not None and "OMP_NUM_THREADS" not in os.environ:
            import torch

            torch.set_num_threads(max(1, (os.cpu_count() or 1) // int(workerinput.get("workercount", 1))))

    def _freeze(self) -> None:
        """Freeze what exists now, unless someone else (an outer session) froze."""
        if not gc.isenabled() or (gc.get_freeze_count() and not self.froze):
            return
        gc.collect()
        gc.freeze()
        self.froze = True

    def _unfreeze(self) -> None:
        if self.froze:
            gc.unfreeze()
            self.froze = False

    @pytest.hookimpl(trylast=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self._freeze()

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self._freeze()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Any:
        option = item.config.option
        style = getattr(option, "tbstyle", None)
        if style is None or PLAN not in item.stash:
            return (yield)
        option.tbstyle = "native"
        try:
            return (yield)
        finally:
            option.tbstyle = style
