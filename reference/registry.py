"""Registries of attention and mask functions: a class-wide mapping plus per-instance overrides.

``register(key, fn)`` (a class method) adds an entry every instance sees, existing
and new.  Assigning on one instance is a local override: visible there, shadowing
the class-wide entry, invisible elsewhere.  Deleting a key on an instance removes
its local override (a key with no local override raises KeyError).  Instances are
mutable mappings over the union of both layers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from typing import Any, ClassVar

__all__ = ["Registry"]


class Registry(MutableMapping[str, Callable[..., Any]]):
    """Base of the registries; each subclass declares its own ``_global_mapping``."""

    _global_mapping: ClassVar[dict[str, Callable[..., Any]]] = {}

    def __init__(self) -> None:
        self._local_mapping: dict[str, Callable[..., Any]] = {}

    def __getitem__(self, key: str) -> Callable[..., Any]:
        if key in self._local_mapping:
            return self._local_mapping[key]
        return self._global_mapping[key]

    def __setitem__(self, key: str, value: Callable[..., Any]) -> None:
        self._local_mapping[key] = value

    def __delitem__(self, key: str) -> None:
        del self._local_mapping[key]

    def __iter__(self) -> Iterator[str]:
        yield from dict.fromkeys([*self._global_mapping, *self._local_mapping])

    def __len__(self) -> int:
        return len(self._global_mapping.keys() | self._local_mapping.keys())

    def __contains__(self, key: object) -> bool:
        return key in self._local_mapping or key in self._global_mapping

    @classmethod
    def register(cls, key: str, value: Callable[..., Any]) -> None:
        cls._global_mapping[key] = value

    def valid_keys(self) -> list[str]:
        return list(self)
