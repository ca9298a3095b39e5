"""Attention backends: which registered attention functions (and their mask builders) the attention
properties judge, and what each one documents.

``--attention-backend KEY`` (repeatable; default ``eager``, ``sdpa`` and the keys
of the implementations' ``ATTENTION_FUNCTIONS``) selects backends by their
``AttentionInterface`` key; ``all`` is every key of each selected
implementation's ``AttentionInterface`` and ``ATTENTION_FUNCTIONS`` plus
``eager`` that can run on the device.  For one implementation a key resolves (:func:`resolve`) to

* the attention function: the contract name for ``eager`` and ``sdpa``
  (``eager_attention_forward``, ``sdpa_attention_forward``), otherwise
  ``AttentionInterface()[key]``, as models look it up (or, for a library with
  attention functions but no registry, its ``ATTENTION_FUNCTIONS[key]``);
* its mask builder: for the builder key its capabilities name -- by default
  its own key when a builder is registered under it, else ``eager`` -- the
  contract name (``eager_mask``, ``sdpa_mask``) or
  ``AttentionMaskInterface()[builder]``, in the canonical call form (the
  implementation's ``canonical_mask_builder`` hook);
* its capabilities (:class:`layer_conformance.contract.Backend`): the
  documented table, the implementation's ``ATTENTION_BACKENDS`` hook, or a
  ``layer_conformance_backend`` dict on the registered function itself.

A backend nobody declared the mask form of (a key the contract does not
document, whose function carries no ``mask``) reads the masks its builder
returns: the form is read off a call of the builder (:func:`mask_form`), so a kernel
registered with ``sdpa_mask`` is given booleans (and None for a causal mask,
which it must read as sdpa reads it), one registered with ``eager_mask``
additive floats.

A backend the implementation does not register, one whose Python package is
absent or one that cannot run on the device is *missing* (with the reason); one
whose call form the suite cannot drive (``paged|*``, which needs a paged cache)
is *skipped*.  This module imports torch only to ask for the device and to
read a builder's mask form.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import weakref
from dataclasses import dataclass
from typing import Any

from .contract import BACKENDS, DEFAULT_BACKENDS, Backend, backend_entry

__all__ = ["DEFAULT_BACKENDS", "BackendParam", "Resolved", "Unavailable", "expand", "mask_form", "resolve"]


@dataclass(frozen=True)
class BackendParam:
    """The value of a property's ``backend`` parameter: a key, resolved per implementation."""

    key: str

    def __repr__(self) -> str:  # shows in Hypothesis' falsifying examples
        return f"<backend {self.key}>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


@dataclass(frozen=True)
class Resolved:
    """A backend of one implementation, ready to call (``builder`` None: the implementation has no mask
    builder for it; the properties that use one report it missing, see :meth:`builder_missing`)."""

    caps: Backend
    function: Any
    builder: Any

    def builder_missing(self, impl_name: str) -> str | None:
        if self.builder is not None:
            return None
        return f"missing: {self.caps.builder_label} in {impl_name} (the mask builder of {self.caps.key})"

    @property
    def key(self) -> str:
        return self.caps.key


@dataclass(frozen=True)
class Unavailable:
    """Why a backend cannot run for an implementation: ``missing`` or ``skipped``, and the reason."""

    outcome: str
    reason: str
    label: str


def _declared(impl: Any, key: str, function: Any) -> dict[str, object] | None:
    table = impl.hook("ATTENTION_BACKENDS", None) or {}
    declared = table.get(key) if hasattr(table, "get") else None
    if declared is None and function is not None:
        declared = getattr(function, "layer_conformance_backend", None)
    return dict(declared) if declared else None


def _registry(impl: Any, name: str) -> Any:
    if not impl.has(name):
        return None
    try:
        return getattr(impl, name)()
    except Exception:  # pragma: no cover - a registry class that cannot be instantiated is not usable
        return None


def _unregistered(impl: Any) -> dict[str, Any]:
    """The attention functions an implementation gives without a registry (its ``ATTENTION_FUNCTIONS``)."""
    functions = impl.hook("ATTENTION_FUNCTIONS", None)
    return dict(functions) if hasattr(functions, "keys") else {}


def _function(impl: Any, caps: Backend) -> Any:
    if caps.name is not None:
        return getattr(impl, caps.name) if impl.has(caps.name) else None
    registry = _registry(impl, "AttentionInterface")
    if registry is not None and caps.key in registry:
        return registry[caps.key]
    return _unregistered(impl).get(caps.key)


def _builder(impl: Any, caps: Backend) -> tuple[Backend, Any]:
    """The backend's mask builder, and its capabilities with the builder's key (and contract name) filled
    in: the key it declares, else its own key where a builder is registered under it, else eager's."""
    registry = _registry(impl, "AttentionMaskInterface")
    key = caps.builder or (caps.key if registry is not None and caps.key in registry else "eager")
    known = BACKENDS.get(key)
    name = known.builder_name if known is not None and known.builder == key else None
    caps = dataclasses.replace(caps, builder=key, builder_name=name)
    if name is not None and impl.has(name):
        return caps, getattr(impl, name)
    if registry is not None and key in registry:
        return caps, impl.hook("canonical_mask_builder", _as_it_is)(registry[key])
    return caps, None


def _as_it_is(builder: Any) -> Any:
    return builder


def resolve(impl: Any, key: str, device_type: str) -> Resolved | Unavailable:
    """The backend ``key`` of ``impl`` on ``device_type``, or why it cannot run."""
    base = backend_entry(key)
    function = _function(impl, base)
    declared = _declared(impl, key, function)
    try:
        caps = backend_entry(key, declared).on(device_type)
    except ValueError as exc:
        return Unavailable("missing", f"{exc} (declared by {impl.name})", base.label)
    if caps.call_form == "paged":
        return Unavailable("skipped", f"{key} needs a paged cache: the suite cannot drive its call form", caps.label)
    if function is None:
        owner = caps.name or "AttentionInterface"
        if impl.has(owner) or not hasattr(impl, "missing_reason"):
            reason = f"missing: {caps.label} in {impl.name} (not in {caps.name or 'its AttentionInterface'})"
        else:  # the implementation lacks the name itself: its own reason, if it gives one
            reason = impl.missing_reason(owner).replace(f"missing: {owner}", f"missing: {caps.label}", 1)
        return Unavailable("missing", reason, caps.label)
    absent = [p for p in caps.packages if not _importable(p)]
    if absent:
        return Unavailable(
            "missing", f"missing: {caps.label} in {impl.name}: needs the Python module {', '.join(absent)}", caps.label
        )
    if caps.devices is not None and device_type not in caps.devices:
        return Unavailable(
            "missing",
            f"missing: {caps.label} in {impl.name}: runs on {', '.join(caps.devices)} only, not {device_type}",
            caps.label,
        )
    caps, builder = _builder(impl, caps)
    if builder is not None and key not in BACKENDS and "mask" not in (declared or {}):
        # nobody said what masks it reads: it reads what its models give it, what its builder returns
        form, none_is_causal = mask_form(builder, device_type)
        said = declared or {}
        if form is not None:
            # a kernel given booleans reads no additive biases, unless it says it does
            additive = form == "additive" if "additive" not in said else caps.additive
            caps = dataclasses.replace(caps, mask=form, additive=additive)
        if none_is_causal and "none_mask" not in said:  # its models give it None for a causal mask
            caps = dataclasses.replace(caps, none_mask="causal")
    return Resolved(caps, function, builder)


_FORMS: weakref.WeakKeyDictionary[Any, tuple[str | None, bool]] = weakref.WeakKeyDictionary()


def _probe(builder: Any, device_type: str, **kwargs: Any) -> Any:
    import torch

    try:
        return builder(
            batch_size=1,
            q_length=2,
            kv_length=3 if "attention_mask" in kwargs else 2,
            mask_function=lambda b, h, q, kv: kv <= q,
            dtype=torch.float32,
            device=device_type,
            **kwargs,
        )
    except Exception:
        return "failed"


def mask_form(builder: Any, device_type: str) -> tuple[str | None, bool]:
    """What a builder's masks are, read off two calls: the form of a causal mask over two queries and three
    keys, the first padded, that may not be skipped (``boolean``, ``additive``, ``blockmask``, ``padding2d``;
    None when the call fails or returns nothing that tells), and whether it returns None for a plain causal
    mask it may skip (its None then means causal, as sdpa's ``is_causal``).  Two calls per builder."""
    try:
        return _FORMS[builder]
    except (KeyError, TypeError):
        pass
    import torch

    padded = torch.tensor([[False, True, True]], device=device_type)
    mask = _probe(builder, device_type, q_offset=1, attention_mask=padded, allow_is_causal_skip=False)
    form: str | None = None
    if isinstance(mask, torch.Tensor):
        if mask.dim() == 2:
            form = "padding2d"
        else:
            form = "boolean" if mask.dtype == torch.bool else "additive" if mask.is_floating_point() else None
    elif type(mask).__name__ == "BlockMask":
        form = "blockmask"
    skipped = _probe(builder, device_type, attention_mask=None, allow_is_causal_skip=True) is None
    try:
        _FORMS[builder] = (form, skipped)
    except TypeError:  # not weakly referable: asked again next time
        pass
    return form, skipped


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def expand(requested: list[str], impls: list[Any], device_type: str) -> tuple[list[str], list[str]]:
    """The backend keys to run (``all`` expanded, duplicates dropped, order kept) and, for ``all``,
    ``"key: reason"`` for the keys it left out (none of the implementations can run them)."""
    keys: list[str] = []
    left_out: list[str] = []
    # by default: eager, sdpa and the functions implementations give without a registry (their only ones)
    default = [*DEFAULT_BACKENDS, *(key for impl in impls for key in _unregistered(impl))]
    for item in requested or list(dict.fromkeys(default)):
        if item != "all":
            if item not in keys:
                keys.append(item)
            continue
        candidates = ["eager"]
        for impl in impls:
            registry = _registry(impl, "AttentionInterface")
            candidates += list(registry) if registry is not None else []
            candidates += list(_unregistered(impl))
        for key in dict.fromkeys(candidates):
            if key in keys:
                continue
            outcomes = [resolve(impl, key, device_type) for impl in impls]
            if any(isinstance(o, Resolved) for o in outcomes):
                keys.append(key)
            else:
                reason = next(o.reason for o in outcomes if isinstance(o, Unavailable))
                left_out.append(f"{key}: {reason}")
    return keys, left_out
