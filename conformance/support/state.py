"""The global state an implementation keeps in mappings: its registries' global entries.

The guard (:mod:`layer_conformance.plugin.guard`) snapshots them before every
example and restores them afterwards; the registry properties use the same
snapshots to compare a registry with the mapping it should equal.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

__all__ = ["registry_snapshots", "restore_snapshots"]

#: Contract names whose global state is a mapping the suite may change.
_REGISTRY_NAMES = ("AttentionInterface", "AttentionMaskInterface")
_MAPPING_NAMES = ("ROPE_INIT_FUNCTIONS",)


def _global_dicts(impl: Any) -> list[MutableMapping[Any, Any]]:
    """The mutable mappings holding an implementation's global registry entries."""
    found: list[MutableMapping[Any, Any]] = []
    if impl is None:
        return found
    for name in _REGISTRY_NAMES:
        cls = getattr(impl.obj, name, None)
        if cls is None:
            continue
        # The documented design keeps global entries in a class-level mapping;
        # snapshot every such mapping along the MRO (subclasses may share it).
        for klass in getattr(cls, "__mro__", ()):
            mapping = vars(klass).get("_global_mapping")
            if isinstance(mapping, MutableMapping) and all(mapping is not f for f in found):
                found.append(mapping)
    for name in _MAPPING_NAMES:
        mapping = getattr(impl.obj, name, None)
        if isinstance(mapping, MutableMapping) and all(mapping is not f for f in found):
            found.append(mapping)
    return found


def registry_snapshots(impl: Any) -> list[tuple[MutableMapping[Any, Any], dict[Any, Any]]]:
    return [(mapping, dict(mapping)) for mapping in _global_dicts(impl)]


def restore_snapshots(snapshots: list[tuple[MutableMapping[Any, Any], dict[Any, Any]]]) -> None:
    """Put every snapshotted mapping back as it was (same entries, same order)."""
    for mapping, saved in snapshots:
        if dict(mapping) != saved or list(mapping) != list(saved):
            mapping.clear()
            mapping.update(saved)
