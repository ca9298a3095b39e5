"""Built-in adapter: every transformers release since 4.53 as an implementation.

It finds every contract name where the installed release keeps it (see the
``where`` column of :mod:`layer_conformance.contract`) and translates the call
forms that differ from the canonical ones.  Each translation is chosen from the
installed function's signature and attributes (*feature detection*), never from
the version number, so that a release the suite was not developed on gets the
form it has:

* a mask builder (``sdpa_mask``, ``eager_mask`` and every builder of the
  ``AttentionMaskInterface``) whose signature takes ``cache_position`` (4.53 to
  5.3) is wrapped to take the canonical ``q_length`` and ``q_offset``;
* ``chunked_overlay`` / ``chunked_causal_mask_function`` without a
  ``left_padding`` parameter (4.53 to 4.55) are wrapped to take the canonical
  ``(chunk_size, left_padding)`` and call the release's ``(chunk_size)``: the
  release has no way to honour a left padding, so the wrapper drops it, and the
  ``DROPPED_ARGUMENTS`` hook says so (the properties of those functions still
  pass it and record the release's behaviour -- chunks counted from position 0
  whatever the padding, huggingface/transformers#40214 -- as the bug it is; the
  builder properties draw no left padding for them);
* the mask entry points (``create_causal_mask`` and its siblings) get no cache,
  passed as None under the name the release gives it (``cache``, which 5.24
  requires, or ``past_key_values``), and, where they take ``cache_position``
  (before 5.5), the queries' positions; builders a property registers for them
  are wrapped into the ``cache_position`` form where the release's builders
  take it (the ``native_mask_builder`` hook);
* ``find_packed_sequence_indices`` of 4.x returns the all-zero indices for
  rows of one sequence each (its docstring promises the tensor); read as the
  None 5.x returns;
* the RoPE config form: ``rope_parameters`` (with ``rope_theta`` inside) when
  the release's config class standardizes RoPE parameters
  (``standardize_rope_params``, 5.0 and later), else ``rope_scaling`` with
  ``rope_theta`` and ``partial_rotary_factor`` on the config;
* ``ROPE_INIT_FUNCTIONS`` without a ``"default"`` entry (5.0 and later, where
  each rotary class computes it) gets one from GPT-NeoX's rotary class;
* the cache keywords ``GradientCheckpointingLayer`` clears are read from its
  source (they were renamed within 5.x).

Names a release does not have (5.x removed ``find_pruneable_heads_and_indices``,
``prune_layer`` and ``prune_conv1d_layer``; 4.x has no
``bidirectional_mask_function``) are left out, so they are reported missing; so
is a parameter the properties need that the release's function lacks (reported
by the property, e.g. ``missing: sdpa_mask(use_vmap) in transformers``).

Supported: every release that has ``transformers.masking_utils`` (4.53 and
later).  :data:`TESTED` is the range the release sweep checks
(``layer-conformance sweep``, ``docs/cross-version-matrix.md``); a release
outside it runs with a note in the session header.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import re
import types
from typing import Any

from ..contract import API
from ..implementation import Adapter, Implementation, ImplError

__all__ = ["ADAPTER", "TESTED", "describe_forms", "load", "namespace"]

#: The releases the published sweep covers (the latest patch of every minor release from 4.53 to 5.25).
TESTED = ">=4.53,<5.26"


def _parameters(fn: Any) -> dict[str, inspect.Parameter] | None:
    """The parameters of ``fn`` as the release wrote them (through ``functools.wraps``), or None."""
    try:
        return dict(inspect.signature(fn).parameters)
    except (TypeError, ValueError):  # pragma: no cover - builtins
        return None


# --------------------------------------------------------------------------- mask builders


def _wrap_cache_position_builder(fn: Any) -> Any:
    """Canonical ``(batch_size, q_length, kv_length, q_offset=0, kv_offset=0, ...)`` on top of a builder taking
    ``cache_position`` (the positions of the queries: ``arange(q_length) + q_offset``)."""
    import torch

    @functools.wraps(fn)
    def canonical(batch_size, q_length, kv_length, q_offset=0, kv_offset=0, *args, device="cpu", **kwargs):
        if args:
            raise TypeError("pass mask_function and the rest by keyword")
        cache_position = torch.arange(q_length, device=device) + q_offset
        return fn(
            batch_size=batch_size, cache_position=cache_position, kv_length=kv_length, kv_offset=kv_offset, **kwargs
        )

    canonical.layer_conformance_form = "cache_position"  # type: ignore[attr-defined]
    return canonical


def _canonical_mask_builder(fn: Any) -> Any:
    """A mask builder in the canonical call form: one whose signature takes ``cache_position`` gets the
    translating wrapper; any other is returned as it is."""
    parameters = _parameters(fn)
    if parameters is not None and "cache_position" in parameters and "q_length" not in parameters:
        return _wrap_cache_position_builder(fn)
    return fn


def _native_mask_builder(fn: Any) -> Any:
    """A canonical builder in the form of a release whose entry points call builders with ``cache_position``
    (the inverse of :func:`_wrap_cache_position_builder`): it reads ``q_length`` and ``q_offset`` off the
    positions."""

    @functools.wraps(fn)
    def native(batch_size, cache_position, kv_length, kv_offset=0, *args, **kwargs):
        if args:
            raise TypeError("pass mask_function and the rest by keyword")
        q_offset = cache_position[0] if len(cache_position) else 0
        return fn(batch_size, len(cache_position), kv_length, q_offset, kv_offset, **kwargs)

    return native


# --------------------------------------------------------------------------- the mask entry points

#: The entry points and the canonical parameters after ``(config, inputs_embeds, attention_mask)``.
ENTRY_POINTS = {
    "create_causal_mask": ("position_ids", "or_mask_function", "and_mask_function"),
    "create_sliding_window_causal_mask": ("position_ids", "or_mask_function", "and_mask_function"),
    "create_chunked_causal_mask": ("position_ids", "or_mask_function", "and_mask_function"),
    "create_masks_for_generate": ("position_ids", "or_mask_function", "and_mask_function"),
    "create_bidirectional_mask": ("encoder_hidden_states", "or_mask_function", "and_mask_function"),
}


def _wrap_entry_point(name: str, fn: Any) -> tuple[Any, dict[str, str]]:
    """Canonical ``(config, inputs_embeds, attention_mask, [encoder_hidden_states,] position_ids=None,
    or_mask_function=None, and_mask_function=None)`` on top of a release's entry point: no cache, passed as
    None to the parameter the release names it (``cache``, which 5.24 requires, or ``past_key_values``), and a
    release taking ``cache_position`` gets the positions of the queries (``arange(q_length)``).  Returns the
    entry point and the surface aliases of what it translates."""
    parameters = _parameters(fn) or {}
    cache_name = next((p for p in ("cache", "past_key_values") if p in parameters), None)
    wants_positions = "cache_position" in parameters
    canonical = ENTRY_POINTS[name]

    @functools.wraps(fn)
    def entry_point(config, inputs_embeds, attention_mask, *args, **kwargs):
        if len(args) > len(canonical):
            raise TypeError(f"{name} takes at most {3 + len(canonical)} positional arguments")
        values = dict(zip(canonical, args, strict=False))
        values.update(kwargs)
        if cache_name is not None:
            values[cache_name] = None
        if wants_positions:
            import torch

            values["cache_position"] = torch.arange(inputs_embeds.shape[1], device=inputs_embeds.device)
        return fn(config, inputs_embeds, attention_mask, **values)

    aliases = {f"{name}(cache_position)": f"{name}(inputs_embeds)"} if wants_positions else {}
    return entry_point, aliases


def _packed_indices_or_none(fn: Any) -> Any:
    """``find_packed_sequence_indices`` returning None for rows that hold one sequence each, on top of a release's
    that returns the (all-zero) indices then too (4.x, whose docstring promises the tensor: 5.0 returns None)."""
    import torch

    probe = fn(torch.arange(2)[None])
    if probe is None:
        return fn

    @functools.wraps(fn)
    def find_packed_sequence_indices(position_ids):
        indices = fn(position_ids)
        return None if indices is not None and not bool(indices[:, -1].any()) else indices

    find_packed_sequence_indices.layer_conformance_form = "indices for unpacked rows"  # type: ignore[attr-defined]
    return find_packed_sequence_indices


# --------------------------------------------------------------------------- chunked mask functions


def _takes_left_padding(fn: Any) -> bool:
    parameters = _parameters(fn)
    return parameters is None or "left_padding" in parameters or len(parameters) >= 2


def _wrap_chunked_without_left_padding(fn: Any) -> Any:
    """Canonical ``(chunk_size, left_padding)`` on top of a release's ``(chunk_size)``, which has no left
    padding: the wrapper drops it (see ``DROPPED_ARGUMENTS``)."""

    @functools.wraps(fn)
    def canonical(chunk_size, left_padding=None):
        return fn(chunk_size)

    canonical.layer_conformance_form = "no left_padding"  # type: ignore[attr-defined]
    return canonical


# --------------------------------------------------------------------------- GradientCheckpointingLayer


def _cache_kwargs(layer_class: type) -> tuple[str, ...]:
    """The cache keywords this release's GradientCheckpointingLayer sets to None while checkpointing,
    read from its source (``kwargs["<name>"] = None``): they were renamed within 5.x (4.53 to 5.16:
    past_key_value, past_key_values, layer_past; 5.17: past_key_values, layer_past; 5.24: cache, layer_past)."""
    try:
        source = inspect.getsource(layer_class)
    except (OSError, TypeError):  # pragma: no cover - no source shipped
        return ("past_key_values", "layer_past")
    names = tuple(dict.fromkeys(re.findall(r'kwargs\["(\w+)"\] = None', source)))
    return names or ("past_key_values", "layer_past")


# --------------------------------------------------------------------------- RoPE configs


def _model_config(config_class: type, canonical: Any) -> Any:
    """A transformers config holding the canonical config's sizes (``head_dim`` only when given)."""
    config = config_class()
    config.hidden_size = canonical.hidden_size
    config.num_attention_heads = canonical.num_attention_heads
    config.max_position_embeddings = canonical.max_position_embeddings
    if not canonical.derive_head_dim:
        config.head_dim = canonical.head_dim
    return config


def _rope_parameters_config(config_class: type, canonical: Any) -> Any:
    """The ``rope_parameters`` form (5.x): everything in ``rope_parameters``, nested by layer type when the
    canonical config is."""
    config = _model_config(config_class, canonical)
    if canonical.layer_type:
        config.layer_types = canonical.layer_types
    config.rope_parameters = canonical.rope_parameters
    return config


def _rope_scaling_config(config_class: type, canonical: Any) -> Any:
    """The ``rope_scaling`` form (4.x): ``rope_theta`` and ``partial_rotary_factor`` on the config, the rest
    in ``rope_scaling``; longrope also reads ``original_max_position_embeddings`` from the config itself.
    None (not expressible) for RoPE parameters per layer type and for a YaRN factor left to the ratio of
    the lengths (``factor: None``), both 5.x features: the 4.x validation requires a YaRN factor; None too
    for llama3 without ``original_max_position_embeddings``, which 4.x requires (5.x defaults it)."""
    if canonical.layer_type or (canonical.rope_type == "yarn" and canonical.param("factor") is None):
        return None
    if canonical.rope_type == "llama3" and canonical.param("original_max_position_embeddings") is None:
        return None
    config = _model_config(config_class, canonical)
    params = dict(canonical.rope_parameters)
    config.rope_theta = params.pop("rope_theta")
    config.partial_rotary_factor = params.pop("partial_rotary_factor", 1.0)
    config.rope_scaling = params
    if params["rope_type"] == "longrope" and "original_max_position_embeddings" in params:
        config.original_max_position_embeddings = params["original_max_position_embeddings"]
    return config


def _config_class(transformers: Any) -> type:
    return getattr(transformers, "PreTrainedConfig", None) or transformers.PretrainedConfig


def _rope_form(transformers: Any) -> str:
    """``rope_parameters`` when the config class standardizes RoPE parameters (5.x), else ``rope_scaling``."""
    return "rope_parameters" if hasattr(_config_class(transformers), "standardize_rope_params") else "rope_scaling"


def _default_rope_init() -> Any | None:
    """A ``"default"`` init function for a release whose ``ROPE_INIT_FUNCTIONS`` has none: GPT-NeoX's rotary
    class computes it and honours ``partial_rotary_factor`` (Llama's does not); None when it has none."""
    try:
        neox = importlib.import_module("transformers.models.gpt_neox.modeling_gpt_neox")
    except ImportError:  # pragma: no cover - a release without GPT-NeoX
        return None
    return getattr(getattr(neox, "GPTNeoXRotaryEmbedding", None), "compute_default_rope_parameters", None)


# --------------------------------------------------------------------------- the rotation


def _model_attr(module: str, name: str) -> Any | None:
    try:
        return getattr(importlib.import_module(f"transformers.models.{module}"), name, None)
    except ImportError:
        return None


def _partial(config: Any) -> float:
    params = getattr(config, "rope_parameters", None) or {}
    return float(params.get("partial_rotary_factor", getattr(config, "partial_rotary_factor", None) or 1.0))


def _rotary_embedding() -> Any | None:
    """``rotary_embedding`` composed as transformers' models compose it: GPT-NeoX's rotary class (the release's
    ``ROPE_INIT_FUNCTIONS`` and ``dynamic_rope_update``) and ``apply_rotary_pos_emb`` for the half layout
    (partial rotary included); Cohere's for the interleaved one, whose models rotate the whole head (a partial
    rotary factor is missing there).  None when the release lacks them."""
    neox = (_model_attr("gpt_neox.modeling_gpt_neox", "GPTNeoXRotaryEmbedding"),
            _model_attr("gpt_neox.modeling_gpt_neox", "apply_rotary_pos_emb"))  # fmt: skip
    cohere = (_model_attr("cohere.modeling_cohere", "CohereRotaryEmbedding"),
              _model_attr("cohere.modeling_cohere", "apply_rotary_pos_emb"))  # fmt: skip
    if None in neox:
        return None

    def rotary_embedding(config, query, key, position_ids, interleaved=False):
        from ..missing import missing, unsupported

        if not interleaved:
            rotary_class, apply = neox
        elif None in cohere:
            missing("rotary_embedding(interleaved)", "transformers", "no Cohere model in this release")
        elif _partial(config) != 1.0:
            unsupported(
                "rotary_embedding(interleaved)",
                "transformers",
                "a partial rotary factor: its interleaved models (Cohere) rotate every feature",
            )
        else:
            rotary_class, apply = cohere
        module = rotary_class(config).to(query.device)
        cos, sin = module(query, position_ids)
        return apply(query, key, cos, sin)

    return rotary_embedding


# --------------------------------------------------------------------------- the namespace


def _find(api: Any) -> Any | None:
    """The release's object for a contract name: looked up in each module the contract says it lived in."""
    for where in dict.fromkeys(w for w in api.where.values() if w):
        try:
            module = importlib.import_module(f"transformers.{where}")
        except ImportError:
            continue
        value = getattr(module, api.name, None)
        if value is not None:
            return value
    return None


def _public_functions(modules: tuple[str, ...]) -> dict[str, Any]:
    """Every public function defined in these modules of the release, by dotted name (for the surface check)."""
    found = {}
    for module_name in modules:
        try:
            module = importlib.import_module(f"transformers.{module_name}")
        except ImportError:  # pragma: no cover - every supported release has both
            continue
        for name, value in vars(module).items():
            if not name.startswith("_") and inspect.isfunction(value) and value.__module__ == module.__name__:
                found[f"{module_name}.{name}"] = value
    return found


def namespace(transformers: Any) -> types.SimpleNamespace:
    """The contract names of an imported ``transformers`` package, in canonical form, with the hooks saying
    how the release departs from it.  ``forms`` (an attribute of the namespace) lists the translations chosen."""
    version = getattr(transformers, "__version__", "?")
    try:
        importlib.import_module("transformers.masking_utils")
    except ImportError:
        raise ImplError(
            f"--impl transformers: transformers {version} has no transformers.masking_utils; the adapter supports "
            "every release that has it (4.53 and later)"
        ) from None
    found: dict[str, Any] = {}
    for api in API.values():
        value = _find(api)
        if value is not None:
            found[api.name] = value
    forms: dict[str, str] = {}

    aliases = {}
    for name in ("sdpa_mask", "eager_mask"):
        if name in found:
            found[name] = _canonical_mask_builder(found[name])
            if getattr(found[name], "layer_conformance_form", None) == "cache_position":
                forms[name] = "cache_position (translated from q_length, q_offset)"
                # the surface check: cache_position is exercised through the canonical q_length (and q_offset)
                aliases[f"{name}(cache_position)"] = f"{name}(q_length)"
    for name in ENTRY_POINTS:
        if name in found:
            found[name], translated = _wrap_entry_point(name, found[name])
            aliases.update(translated)
            if translated:
                forms[name] = "cache_position (the queries' positions, no cache)"
    if "find_packed_sequence_indices" in found:
        found["find_packed_sequence_indices"] = _packed_indices_or_none(found["find_packed_sequence_indices"])
        if getattr(found["find_packed_sequence_indices"], "layer_conformance_form", None):
            forms["find_packed_sequence_indices"] = "all-zero indices for unpacked rows (read as None)"
    if aliases:
        found["SURFACE_ALIASES"] = aliases
    found["canonical_mask_builder"] = _canonical_mask_builder
    if getattr(found.get("sdpa_mask"), "layer_conformance_form", None) == "cache_position":
        found["native_mask_builder"] = _native_mask_builder

    dropped = {}
    for name in ("chunked_overlay", "chunked_causal_mask_function"):
        if name in found and not _takes_left_padding(found[name]):
            found[name] = _wrap_chunked_without_left_padding(found[name])
            dropped[name] = ("left_padding",)
            forms[name] = "(chunk_size) without left_padding (dropped)"
    if dropped:
        found["DROPPED_ARGUMENTS"] = dropped

    if "ROPE_INIT_FUNCTIONS" in found and "default" not in found["ROPE_INIT_FUNCTIONS"]:
        default = _default_rope_init()
        if default is not None:
            found["ROPE_INIT_FUNCTIONS"] = {"default": default, **found["ROPE_INIT_FUNCTIONS"]}
            forms["ROPE_INIT_FUNCTIONS['default']"] = "GPTNeoXRotaryEmbedding.compute_default_rope_parameters"
    rope_form = _rope_form(transformers)
    build = _rope_parameters_config if rope_form == "rope_parameters" else _rope_scaling_config
    found["rope_config"] = functools.partial(build, _config_class(transformers))
    forms["RoPE config"] = rope_form if rope_form == "rope_parameters" else "rope_scaling + rope_theta"

    rotation = _rotary_embedding()
    if rotation is not None and "ROPE_INIT_FUNCTIONS" in found:
        found["rotary_embedding"] = rotation
        forms["rotary_embedding"] = "GPTNeoXRotaryEmbedding + apply_rotary_pos_emb (interleaved: Cohere's)"
    if "GradientCheckpointingLayer" in found:
        found["CHECKPOINTING_CACHE_KWARGS"] = _cache_kwargs(found["GradientCheckpointingLayer"])
        forms["GradientCheckpointingLayer clears"] = ", ".join(found["CHECKPOINTING_CACHE_KWARGS"])
    found["LOGGERS"] = ("transformers",)  # transformers' library logger does not propagate to the root
    found["PUBLIC_FUNCTIONS"] = _public_functions(("masking_utils", "modeling_rope_utils"))
    ns = types.SimpleNamespace(**found)
    ns.__version__ = version
    ns.forms = forms
    return ns


def describe_forms(forms: dict[str, str]) -> str:
    return "; ".join(f"{k}: {v}" for k, v in forms.items())


def _tested(version: str) -> bool:
    try:
        from packaging.specifiers import SpecifierSet
        from packaging.version import InvalidVersion, Version
    except ImportError:  # pragma: no cover - packaging comes with pytest
        return True
    try:
        return Version(version) in SpecifierSet(TESTED, prereleases=True)
    except InvalidVersion:
        return False


def load(name: str = "transformers") -> Implementation:
    try:
        import transformers
    except ImportError as exc:
        raise ImplError(
            f"--impl {name}: transformers is not installed ({exc}); pip install 'layer-conformance[transformers]'"
        ) from None
    ns = namespace(transformers)
    details = {"adapter": "layer_conformance.adapters.transformers", "call_forms": describe_forms(ns.forms)}
    if not _tested(ns.__version__):
        details["note"] = f"release outside the tested range {TESTED} (call forms found by feature detection)"
    return Implementation(
        name=name,
        obj=ns,
        origin=transformers.__file__ or "transformers",
        version=transformers.__version__,
        details=details,
    )


#: The entry point ``transformers`` of group ``layer_conformance.adapters`` (``pyproject.toml``).
ADAPTER = Adapter(load, requires=("transformers",), install="pip install 'layer-conformance[transformers]'")
