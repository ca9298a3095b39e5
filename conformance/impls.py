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
import importlib.machinery
import importlib.metadata as md
import importlib.util
import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .contract import API, NAMES

__all__ = ["ENTRY_POINT_GROUP", "ImplError", "Implementation", "check_spec", "is_module_spec", "load_implementation"]

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


def _find_without_import(module_name: str) -> bool:
    """Whether ``module_name`` can be found, without running any module's code (not even its
    packages' ``__init__``): the top-level name through the import system's finders, each submodule
    in its parent's search locations."""
    parts = module_name.split(".")
    try:
        spec = importlib.util.find_spec(parts[0])
        for i in range(1, len(parts)):
            full, parent = ".".join(parts[: i + 1]), ".".join(parts[:i])
            if parent in sys.modules:  # already imported: asking costs nothing
                spec = importlib.util.find_spec(full)
            elif spec is None or spec.submodule_search_locations is None:
                return False
            else:
                spec = importlib.machinery.PathFinder.find_spec(full, list(spec.submodule_search_locations))
            if spec is None:
                return False
    except (ImportError, ValueError):
        return False
    return spec is not None


def _usage_checks(spec: str) -> str:
    """The checks every spec passes before anything is imported; returns the stripped spec."""
    spec = spec.strip()
    if not spec:
        raise ImplError("--impl needs a value: reference, transformers, an entry point name or module[:attr]")
    if spec in BUILTINS or _entry_point(spec) is not None:
        return spec
    if not all(part.isidentifier() for part in spec.replace(":", ".").split(".")):
        raise ImplError(
            f"--impl {spec}: not a built-in (reference, transformers), an entry point in group "
            f"{ENTRY_POINT_GROUP!r}, or an importable module[:attr]"
        )
    return spec


def is_module_spec(spec: str) -> bool:
    """Whether an ``--impl`` value names a module (neither a built-in nor an entry point)."""
    return spec not in BUILTINS and _entry_point(spec) is None


def check_spec(spec: str) -> str:
    """Check an ``--impl`` value without importing the implementation (nor torch): it is a built-in,
    an entry point, or a module the import system can find.  Raises :class:`ImplError` with the
    one-line message :func:`load_implementation` would give; returns the stripped spec.  Used where
    no property runs (the pytest-xdist controller); what only an import can tell (a missing
    attribute, an import that raises) is reported where the implementation is loaded."""
    spec = _usage_checks(spec)
    if spec == "transformers" and importlib.util.find_spec("transformers") is None:
        raise ImplError(
            "--impl transformers: transformers is not installed; pip install 'layer-conformance[transformers]'"
        )
    if not is_module_spec(spec):
        return spec
    module_name = spec.partition(":")[0]
    if not _find_without_import(module_name):
        _import(spec)  # an unusual finder, or really absent: the import itself says which
    return spec


def load_implementation(spec: str) -> Implementation:
    """Resolve one ``--impl`` value; raises :class:`ImplError` with a one-line message."""
    spec = _usage_checks(spec)
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
    obj = _import(spec)
    impl = _from_object(spec, obj, spec.split(":")[0])
    if not any(impl.has(n) for n in NAMES):
        raise ImplError(
            f"--impl {spec}: {impl.origin} exposes none of the contract names (see layer_conformance.contract)"
        )
    return impl
