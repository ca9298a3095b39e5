"""Finding and loading implementations.

An implementation spec (the value of ``--impl``) is resolved in this order:

1. ``reference`` -- the bundled reference (``layer_conformance.reference``);
2. ``transformers`` -- the built-in adapter for transformers 4.57.x and 5.x;
3. the name of an entry point in group ``layer_conformance.impls``;
4. ``package.module`` or ``package.module:attr`` -- any importable object.

Whatever is found is wrapped in an :class:`Implementation`, which answers which
contract names it has and hands them to the properties.
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .contract import API, NAMES

__all__ = ["ENTRY_POINT_GROUP", "ImplError", "Implementation", "load_implementation"]

ENTRY_POINT_GROUP = "layer_conformance.impls"


class ImplError(Exception):
    """An implementation spec that cannot be resolved; the message is one line."""


@dataclass
class Implementation:
    """A selected implementation: a named object exposing some contract names."""

    name: str
    obj: Any
    origin: str
    version: str | None = None
    #: extra facts for the session header, e.g. the transformers version
    details: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:  # shows up in Hypothesis' falsifying examples
        return f"<impl {self.name}>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # Hypothesis' pretty printer
        printer.text(repr(self))

    def has(self, name: str) -> bool:
        return getattr(self.obj, name, None) is not None

    def missing(self) -> list[str]:
        """Contract names this implementation lacks."""
        return [n for n in NAMES if not self.has(n)]

    def hook(self, name: str, default: Any = None) -> Any:
        """An optional hook (see ``layer_conformance.contract.HOOKS``; not a contract name), or ``default``."""
        value = getattr(self.obj, name, None)
        return default if value is None else value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name not in API:
            raise AttributeError(name)
        value = getattr(self.obj, name, None)
        if value is None:
            raise AttributeError(f"missing: {name} in {self.name}")
        return value


def _origin_of(obj: Any) -> str:
    module = inspect.getmodule(obj)
    path = getattr(module, "__file__", None) if module is not None else None
    return path or getattr(obj, "__name__", None) or type(obj).__name__


def _version_of(obj: Any, module_name: str) -> str | None:
    version = getattr(obj, "__version__", None)
    if isinstance(version, str):
        return version
    top = module_name.split(".")[0]
    for dist in md.packages_distributions().get(top, []):
        try:
            return md.version(dist)
        except md.PackageNotFoundError:  # pragma: no cover - broken metadata
            continue
    return None


def _from_object(name: str, obj: Any, module_name: str) -> Implementation:
    return Implementation(name=name, obj=obj, origin=_origin_of(obj), version=_version_of(obj, module_name))


def _reference(name: str) -> Implementation:
    from . import __version__, reference

    return Implementation(name=name, obj=reference, origin=_origin_of(reference), version=__version__)


def _transformers(name: str) -> Implementation:
    from .adapters import transformers as adapter

    return adapter.load(name)


BUILTINS: dict[str, Callable[[str], Implementation]] = {"reference": _reference, "transformers": _transformers}


def _entry_point(spec: str) -> md.EntryPoint | None:
    for ep in md.entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == spec:
            return ep
    return None


def _import(spec: str) -> Any:
    module_name, _, attr = spec.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ImplError(f"--impl {spec}: cannot import {module_name!r}: {exc}") from None
    except Exception as exc:  # an implementation whose import crashes
        raise ImplError(f"--impl {spec}: importing {module_name!r} raised {type(exc).__name__}: {exc}") from None
    for part in filter(None, attr.split(".")):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ImplError(f"--impl {spec}: {module_name!r} has no attribute {attr!r}") from None
    return obj


def load_implementation(spec: str) -> Implementation:
    """Resolve one ``--impl`` value; raises :class:`ImplError` with a one-line message."""
    spec = spec.strip()
    if not spec:
        raise ImplError("--impl needs a value: reference, transformers, an entry point name or module[:attr]")
    if spec in BUILTINS:
        try:
            return BUILTINS[spec](spec)
        except ImplError:
            raise
        except ImportError as exc:
            raise ImplError(f"--impl {spec}: {exc}") from None
    ep = _entry_point(spec)
    if ep is not None:
        try:
            obj = ep.load()
        except Exception as exc:
            raise ImplError(f"--impl {spec}: entry point {ep.value!r} failed: {type(exc).__name__}: {exc}") from None
        return _from_object(spec, obj, ep.value.split(":")[0])
    if not all(part.isidentifier() for part in spec.replace(":", ".").split(".")):
        raise ImplError(
            f"--impl {spec}: not a built-in (reference, transformers), an entry point in group "
            f"{ENTRY_POINT_GROUP!r}, or an importable module[:attr]"
        )
    obj = _import(spec)
    impl = _from_object(spec, obj, spec.split(":")[0])
    if not any(impl.has(n) for n in NAMES):
        raise ImplError(
            f"--impl {spec}: {impl.origin} exposes none of the contract names (see layer_conformance.contract)"
        )
    return impl
