"""The implementation record: what the loader hands to the properties, and what an adapter returns.

An :class:`Implementation` is a named object exposing some of the contract
names (:mod:`layer_conformance.contract`); it answers which names it has, hands
them to the properties and gives its optional hooks.  An :class:`Adapter` is
how a library that does not expose the contract names itself becomes one: an
entry point in group ``layer_conformance.impls`` naming an :class:`Adapter`
(the built-in ``transformers`` is one) is loaded through its ``load``.  This
module imports nothing but the standard library and the contract, so that the
loader (:mod:`layer_conformance.impls`) and every adapter can import it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .contract import API, NAMES

__all__ = ["Adapter", "Difference", "ImplError", "Implementation", "Recipe"]


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

    def _why_missing(self, name: str) -> str:
        reasons = self.hook("MISSING_REASONS", {})
        why = reasons.get(name) if hasattr(reasons, "get") else None
        return str(why) if why else ""

    def missing_reason(self, name: str) -> str:
        """``missing: <name> in <impl>``, with why when the implementation says (its ``MISSING_REASONS`` hook)."""
        why = self._why_missing(name)
        return f"missing: {name} in {self.name}" + (f" ({why})" if why else "")

    def missing_reasons(self) -> dict[str, str]:
        """Why the implementation lacks each contract name it lacks, where it says."""
        return {name: why for name in self.missing() if (why := self._why_missing(name))}

    def differences(self) -> list[Difference]:
        """The rules this implementation declares it does differently by design (its ``DESIGN_DIFFERENCES`` hook)."""
        declared = self.hook("DESIGN_DIFFERENCES", ())
        return [d if isinstance(d, Difference) else Difference(**d) for d in declared]

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


@dataclass(frozen=True)
class Difference:
    """A rule an implementation deliberately does differently from the contract, declared once by its adapter.

    The tests it affects (``pattern``, matched as an xfail line's test pattern), what the implementation does
    instead (``rule``, in its own words where it has them), where it says so (``source``: a file and line of
    its source, its documentation) and the failure it causes (``failure``, as an xfail line's: exception types
    and a pattern of the message; any other failure of those tests fails as usual), for its versions in
    ``versions`` (None: every one).  Its tests are reported **differs**: neither a pass nor a bug.  A
    declared difference whose tests pass is stale, as an expected failure that passes."""

    pattern: str
    rule: str
    source: str
    failure: str | None = None
    versions: str | None = None


@dataclass(frozen=True)
class Recipe:
    """How the release sweep makes an environment for a library (``layer-conformance sweep vllm``): what to
    install beside the suite, what to remove afterwards (wheels built for another torch that break the
    import), and whether the library brings its own torch instead of the sweep's pinned one."""

    requirements: tuple[str, ...]
    remove: tuple[str, ...] = ()
    own_torch: bool = False


@dataclass(frozen=True)
class Adapter:
    """A library made into an implementation by code of the suite (``--impl transformers``).

    An entry point in group ``layer_conformance.adapters`` that names an ``Adapter`` is loaded by calling
    ``load(name)``; ``requires`` are the top-level modules it needs, checked without importing anything
    (the pytest-xdist controller checks ``--impl`` values so), ``install`` says how to get them, and
    ``recipe`` how the sweep makes an environment for it (None: the sweep cannot target it by name)."""

    load: Callable[[str], Implementation]
    requires: tuple[str, ...] = ()
    install: str = ""
    recipe: Recipe | None = None
