"""The per-example guard: global state is restored after every example.

The plugin wraps every property so that each Hypothesis example (and each plain
test call) runs inside :func:`example_guard`.  Before the example it records
torch's default dtype, grad mode, RNG states and the global entries of the
implementation's registries, and seeds torch's global RNG with a fixed value so
that code drawing from it (layer initialisation) replays.  Afterwards it puts
everything back.  The registries are restored silently (properties register
test functions on purpose); a changed default dtype or grad mode is restored
*and* reported as a failure of that example, since it can only come from the
implementation under test.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

import torch

__all__ = ["GlobalStateLeak", "example_guard", "guarded", "registry_snapshots", "restore_snapshots"]

#: Seed of torch's global RNG at the start of every example.
EXAMPLE_SEED = 0

#: Contract names whose global state is a mapping the suite may change.
_REGISTRY_NAMES = ("AttentionInterface", "AttentionMaskInterface")
_MAPPING_NAMES = ("ROPE_INIT_FUNCTIONS",)


class GlobalStateLeak(AssertionError):
    """The example left torch's global state changed."""


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


@contextlib.contextmanager
def example_guard(impl: Any = None) -> Iterator[None]:
    """Run one example with torch's global state saved, seeded, and restored."""
    dtype = torch.get_default_dtype()
    grad = torch.is_grad_enabled()
    cpu_rng = torch.random.get_rng_state()
    cuda_rng = torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else None
    registries = registry_snapshots(impl)
    # not torch.manual_seed: it queues lazy seeding of every accelerator backend and
    # formats a stack trace for each, which costs milliseconds per example
    torch.random.default_generator.manual_seed(EXAMPLE_SEED)
    if cuda_rng is not None:
        torch.cuda.manual_seed_all(EXAMPLE_SEED)
    leaked: list[str] = []
    try:
        yield
    finally:
        if torch.get_default_dtype() != dtype:
            leaked.append(f"default dtype {torch.get_default_dtype()} (was {dtype})")
            torch.set_default_dtype(dtype)
        if torch.is_grad_enabled() != grad:
            leaked.append(f"grad mode {torch.is_grad_enabled()} (was {grad})")
            torch.set_grad_enabled(grad)
        torch.random.set_rng_state(cpu_rng)
        if cuda_rng is not None:
            torch.cuda.set_rng_state_all(cuda_rng)
        restore_snapshots(registries)
    if leaked:
        raise GlobalStateLeak("the example left global state changed: " + "; ".join(leaked))


def guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a test function (or a Hypothesis inner test) in :func:`example_guard`."""
    if getattr(fn, "_layer_conformance_guarded", False):
        return fn

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with example_guard(kwargs.get("impl")):
            return fn(*args, **kwargs)

    wrapper._layer_conformance_guarded = True  # type: ignore[attr-defined]
    return wrapper
