"""Global state around every example: torch's, and the global entries of an implementation's registries.

:func:`example_guard` runs one example with torch's default dtype, grad mode and
RNG states and the implementation's registries saved, torch's RNG seeded (so
that code drawing from it, layer initialisation, replays) and everything put
back afterwards: the plugin's guard (:mod:`layer_conformance.plugin.guard`)
wraps every example of every property in it, and a repro script
(:mod:`layer_conformance.tools.replay`) its one example.  The registry
properties use the same snapshots to compare a registry with the mapping it
should equal.  Which contract names hold global entries is the contract's
``kind`` (:data:`layer_conformance.contract.REGISTRIES`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, MutableMapping
from typing import Any

import torch

from layer_conformance.contract import API, REGISTRIES

__all__ = ["EXAMPLE_SEED", "GlobalStateLeak", "example_guard", "registry_snapshots", "restore_snapshots"]


def _global_dicts(impl: Any) -> list[MutableMapping[Any, Any]]:
    """The mutable mappings holding an implementation's global registry entries."""
    found: list[MutableMapping[Any, Any]] = []
    if impl is None:
        return found
    for name in REGISTRIES:
        value = getattr(impl.obj, name, None)
        if value is None:
            continue
        if API[name].kind == "mapping":
            candidates = [value]
        else:
            # A registry class keeps its global entries in a class-level mapping (the documented design);
            # snapshot every such mapping along the MRO (subclasses may share it).
            candidates = [vars(klass).get("_global_mapping") for klass in getattr(value, "__mro__", ())]
        for mapping in candidates:
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


#: Seed of torch's global RNG at the start of every example.
EXAMPLE_SEED = 0


class GlobalStateLeak(AssertionError):
    """The example left torch's global state changed."""


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
