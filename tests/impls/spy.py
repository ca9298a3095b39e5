"""The reference's contract names behind a spy recording the surface each property exercises.

Every function records the named parameters each call binds (by position or by keyword), ``Conv1D``
its constructor's, ``ROPE_INIT_FUNCTIONS`` the keys looked up and its entries their parameters, the
registries the keys looked up: one ``<file>::<property>\\t<surface item>`` line per new pair, appended to
the file ``LAYER_CONFORMANCE_SPY`` names (nothing without it).  Every result is the reference's, so the
whole suite passes on it; ``tests/test_surface.py`` checks :data:`layer_conformance.surface.COVERED`
against the lines.
"""

from __future__ import annotations

import functools
import inspect
import os
import re

from layer_conformance import reference
from layer_conformance.contract import NAMES
from layer_conformance.surface import Item

_SEEN: set[tuple[str, str]] = set()
_PROPERTY = re.compile(r"(?:^|/)(test_\w+\.py)::(\w+)")
_VARIADIC = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


def _record(item: str) -> None:
    path = os.environ.get("LAYER_CONFORMANCE_SPY")
    match = _PROPERTY.search(os.environ.get("PYTEST_CURRENT_TEST", ""))
    if path is None or match is None:
        return
    entry = (f"{match[1]}::{match[2]}", item)
    if entry not in _SEEN:
        _SEEN.add(entry)
        with open(path, "a") as f:
            f.write("\t".join(entry) + "\n")


def _spy(label: str, fn, key: str | None = None):
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def spied(*args, **kwargs):
        try:
            bound = signature.bind_partial(*args, **kwargs).arguments
        except TypeError:
            bound = {}
        for parameter in signature.parameters.values():
            if parameter.name in bound and parameter.kind not in _VARIADIC:
                _record(str(Item(label, key, parameter.name)))
        return fn(*args, **kwargs)

    return spied


class _SpiedMapping(dict):
    def __init__(self, label: str, entries: dict) -> None:
        super().__init__({key: _spy(label, fn, key) for key, fn in entries.items()})
        self.label = label

    def __getitem__(self, key):
        _record(str(Item(self.label, key)))
        return super().__getitem__(key)


def _spied_registry(cls: type) -> type:
    def __getitem__(self, key):
        _record(str(Item(cls.__name__, key)))
        return cls.__getitem__(self, key)

    return type(cls.__name__, (cls,), {"__getitem__": __getitem__, "__module__": __name__})


class Conv1D(reference.Conv1D):
    def __init__(self, nf: int, nx: int) -> None:
        _record("Conv1D(nf)")
        _record("Conv1D(nx)")
        super().__init__(nf, nx)


_CLASSES = {"Conv1D": Conv1D, "GradientCheckpointingLayer": reference.GradientCheckpointingLayer}

for _name in NAMES:
    _value = getattr(reference, _name)
    if _name in _CLASSES:
        globals()[_name] = _CLASSES[_name]
    elif _name == "ROPE_INIT_FUNCTIONS":
        globals()[_name] = _SpiedMapping(_name, _value)
    elif isinstance(_value, type):
        globals()[_name] = _spied_registry(_value)
    else:
        globals()[_name] = _spy(_name, _value)
