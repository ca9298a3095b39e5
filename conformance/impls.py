"""Finding and loading implementations: the value of ``--impl``.

An implementation spec is resolved in this order:

1. the name of an entry point in group ``layer_conformance.adapters``: an
   :class:`~layer_conformance.implementation.Adapter` that makes a library an
   implementation (the suite's own: ``transformers``);
2. the name of an entry point in group ``layer_conformance.impls``: an object
   exposing contract names (the suite's own: ``reference``, the default);
3. ``package.module`` or ``package.module:attr`` -- any importable object.

Whatever is found is an :class:`~layer_conformance.implementation.Implementation`,
which answers which contract names it has and hands them to the properties.
The built-in implementations are entry points like any other (declared in the
suite's ``pyproject.toml``), so this loader imports no adapter by name.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.metadata as md
import importlib.util
import inspect
import sys
from typing import Any

from .contract import NAMES
from .implementation import Adapter, Implementation, ImplError

__all__ = [
    "ADAPTER_GROUP",
    "adapter",
    "adapter_names",
    "ENTRY_POINT_GROUP",
    "ImplError",
    "Implementation",
    "check_spec",
    "is_module_spec",
    "load_implementation",
]

ENTRY_POINT_GROUP = "layer_conformance.impls"
ADAPTER_GROUP = "layer_conformance.adapters"


def _origin_of(obj: Any) -> str:
    module = inspect.getmodule(obj)
    path = getattr(module, "__file__", None) if module is not None else None
    return path or getattr(obj, "__name__", None) or type(obj).__name__


def _version_of(obj: Any, module_name: str, dist: md.Distribution | None = None) -> str | None:
    """The object's ``__version__``; else that of the distribution that registered it as an entry point
    (``dist``); else that of a distribution providing its top-level module."""
    version = getattr(obj, "__version__", None)
    if isinstance(version, str):
        return version
    if dist is not None:
        return dist.version
    top = module_name.split(".")[0]
    for name in md.packages_distributions().get(top, []):
        try:
            return md.version(name)
        except md.PackageNotFoundError:  # pragma: no cover - broken metadata
            continue
    return None


def _from_object(name: str, obj: Any, module_name: str, dist: md.Distribution | None = None) -> Implementation:
    return Implementation(name=name, obj=obj, origin=_origin_of(obj), version=_version_of(obj, module_name, dist))


def _entry_point(spec: str) -> md.EntryPoint | None:
    for ep in md.entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == spec:
            return ep
    return None


def _adapter_entry(spec: str) -> md.EntryPoint | None:
    for ep in md.entry_points(group=ADAPTER_GROUP):
        if ep.name == spec:
            return ep
    return None


def adapter(name: str) -> Adapter | None:
    """The adapter registered under ``name`` (loading it imports the adapter's module, never its library), or
    None when no adapter has that name."""
    ep = _adapter_entry(name)
    return None if ep is None else _adapter(ep)


def adapter_names() -> list[str]:
    """The names of the registered adapters."""
    return sorted(ep.name for ep in md.entry_points(group=ADAPTER_GROUP))


def _adapter(ep: md.EntryPoint) -> Adapter:
    """The adapter an entry point names (loading it imports the adapter's module, never its library)."""
    try:
        adapter = ep.load()
    except Exception as exc:
        raise ImplError(f"--impl {ep.name}: adapter {ep.value!r} failed: {type(exc).__name__}: {exc}") from None
    if not isinstance(adapter, Adapter):
        raise ImplError(f"--impl {ep.name}: entry point {ep.value!r} in group {ADAPTER_GROUP!r} is not an Adapter")
    return adapter


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
    if not is_module_spec(spec):
        return spec
    if not all(part.isidentifier() for part in spec.replace(":", ".").split(".")):
        raise ImplError(
            f"--impl {spec}: not an adapter (group {ADAPTER_GROUP!r}: transformers, ...), an entry point in group "
            f"{ENTRY_POINT_GROUP!r} (reference, ...), or an importable module[:attr]"
        )
    return spec


def is_module_spec(spec: str) -> bool:
    """Whether an ``--impl`` value names a module (neither an adapter nor an implementation entry point)."""
    return _adapter_entry(spec) is None and _entry_point(spec) is None


def check_spec(spec: str) -> str:
    """Check an ``--impl`` value without importing the implementation (nor torch): it is an adapter whose
    library is installed, an entry point, or a module the import system can find.  Raises :class:`ImplError`
    with the one-line message :func:`load_implementation` would give; returns the stripped spec.  Used where
    no property runs (the pytest-xdist controller); what only an import can tell (a missing attribute, an
    import that raises) is reported where the implementation is loaded."""
    spec = _usage_checks(spec)
    ep = _adapter_entry(spec)
    if ep is not None:
        adapter = _adapter(ep)
        absent = [m for m in adapter.requires if importlib.util.find_spec(m) is None]
        if absent:
            hint = f"; {adapter.install}" if adapter.install else ""
            raise ImplError(f"--impl {spec}: {', '.join(absent)} is not installed{hint}")
        return spec
    if not is_module_spec(spec):
        return spec
    module_name = spec.partition(":")[0]
    if not _find_without_import(module_name):
        _import(spec)  # an unusual finder, or really absent: the import itself says which
    return spec


def load_implementation(spec: str) -> Implementation:
    """Resolve one ``--impl`` value; raises :class:`ImplError` with a one-line message."""
    spec = check_spec(spec) if _adapter_entry(spec.strip()) is not None else _usage_checks(spec)
    ep = _adapter_entry(spec)
    if ep is not None:
        try:
            return _adapter(ep).load(spec)
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
        return _from_object(spec, obj, ep.value.split(":")[0], ep.dist)
    obj = _import(spec)
    impl = _from_object(spec, obj, spec.split(":")[0])
    if not any(impl.has(n) for n in NAMES) and not impl.hook("ATTENTION_FUNCTIONS", None):
        raise ImplError(
            f"--impl {spec}: {impl.origin} exposes none of the contract names (see layer_conformance.contract) "
            "and no ATTENTION_FUNCTIONS"
        )
    return impl
