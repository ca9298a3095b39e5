"""The reference's contract names behind a spy recording the surface each property exercises.

Every function records the named parameters each call binds (by position or by keyword), every class
its constructor's, every mapping (``ROPE_INIT_FUNCTIONS``) the keys looked up and its entries their
parameters, every registry the keys looked up and the methods called -- by the contract's ``kind`` of each name: one ``<file>::<property>\\t<surface item>`` line per new pair, appended to
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
from layer_conformance.contract import API, NAMES
from layer_conformance.surface import Item, registry_methods

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


def _spied_method(label: str, attr):
    """A registry's method (plain or class method) recording ``label`` when called."""
    plain = attr.__func__ if isinstance(attr, classmethod) else attr

    @functools.wraps(plain)
    def spied(*args, **kwargs):
        _record(label)
        return plain(*args, **kwargs)

    return classmethod(spied) if isinstance(attr, classmethod) else spied


def _spied_registry(cls: type) -> type:
    def __getitem__(self, key):
        _record(str(Item(cls.__name__, key)))
        return cls.__getitem__(self, key)

    methods = {
        name: _spied_method(f"{cls.__name__}.{name}", inspect.getattr_static(cls, name))
        for name in registry_methods(cls)
    }
    return type(cls.__name__, (cls,), {"__getitem__": __getitem__, "__module__": __name__, **methods})


def _spied_class(label: str, cls: type) -> type:
    """A subclass recording the named parameters each construction binds (a class whose constructor has none, such
    as GradientCheckpointingLayer's ``*args, **kwargs``, has no surface there and is passed as it is)."""
    signature = inspect.signature(cls.__init__)
    named = [p for p in list(signature.parameters.values())[1:] if p.kind not in _VARIADIC]
    if not named:
        return cls

    def __init__(self, *args, **kwargs):
        try:
            bound = signature.bind_partial(self, *args, **kwargs).arguments
        except TypeError:
            bound = {}
        for parameter in named:
            if parameter.name in bound:
                _record(str(Item(label, None, parameter.name)))
        cls.__init__(self, *args, **kwargs)

    return type(cls.__name__, (cls,), {"__init__": __init__, "__module__": __name__})


#: How each kind of contract name is spied on (the contract's ``kind``).
_SPIES = {
    "function": lambda name, value: _spy(name, value),
    "class": lambda name, value: _spied_class(name, value),
    "registry": lambda name, value: _spied_registry(value),
    "mapping": lambda name, value: _SpiedMapping(name, value),
}

for _name in NAMES:
    globals()[_name] = _SPIES[API[_name].kind](_name, getattr(reference, _name))
