"""Built-in adapter: transformers 4.57.x and 5.x as an implementation.

It finds every contract name where the installed version keeps it (see the
``where`` column of :mod:`layer_conformance.contract`) and translates the call
forms that differ from the canonical ones:

* 4.57.x ``sdpa_mask`` / ``eager_mask`` take ``cache_position`` instead of
  ``q_length`` and ``q_offset``;
* 5.x ``ROPE_INIT_FUNCTIONS`` has no ``"default"`` entry (each rotary class
  computes it); the adapter supplies one from the Llama rotary class.

Names a version does not have (5.x removed ``find_pruneable_heads_and_indices``,
``prune_layer`` and ``prune_conv1d_layer``; 4.57.x has no
``bidirectional_mask_function``) are left out, so they are reported missing.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import re
import types
from typing import Any

from ..contract import API
from ..impls import Implementation, ImplError

__all__ = ["SUPPORTED", "load", "namespace"]

SUPPORTED = ("4", "5")


def _major(version: str) -> str:
    return version.split(".")[0]


def _wrap_mask_builder_4(fn: Any) -> Any:
    """Canonical (q_length, q_offset) call form on top of 4.57's cache_position form."""
    import torch

    @functools.wraps(fn)
    def canonical(batch_size, q_length, kv_length, q_offset=0, kv_offset=0, *args, device="cpu", **kwargs):
        if args:
            raise TypeError("pass mask_function and the rest by keyword")
        cache_position = torch.arange(q_length, device=device) + q_offset
        return fn(
            batch_size=batch_size, cache_position=cache_position, kv_length=kv_length, kv_offset=kv_offset, **kwargs
        )

    canonical.__wrapped_form__ = "4.57 cache_position"  # type: ignore[attr-defined]
    return canonical


def _canonical_mask_builder(fn: Any) -> Any:
    """A mask builder of the AttentionMaskInterface in the canonical call form: one that takes
    ``cache_position`` (4.5x, 5.0-5.3) gets the translating wrapper, chosen from its signature."""
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins
        return fn
    return _wrap_mask_builder_4(fn) if "cache_position" in parameters else fn


def _cache_kwargs(layer_class: type) -> tuple[str, ...]:
    """The cache keywords this version's GradientCheckpointingLayer sets to None while checkpointing,
    read from its source (``kwargs["<name>"] = None``): they were renamed within 5.x (4.57:
    past_key_value, past_key_values, layer_past; 5.24: cache, layer_past)."""
    source = inspect.getsource(layer_class)
    names = tuple(dict.fromkeys(re.findall(r'kwargs\["(\w+)"\] = None', source)))
    return names or ("past_key_values", "layer_past")


def _model_config(config_class: type, canonical: Any) -> Any:
    """A transformers config holding the canonical config's sizes (``head_dim`` only when given)."""
    config = config_class()
    config.hidden_size = canonical.hidden_size
    config.num_attention_heads = canonical.num_attention_heads
    config.max_position_embeddings = canonical.max_position_embeddings
    if not canonical.derive_head_dim:
        config.head_dim = canonical.head_dim
    return config


def _rope_config_5(transformers: Any, canonical: Any) -> Any:
    """5.x: a PreTrainedConfig with everything in ``rope_parameters``."""
    config = _model_config(transformers.PreTrainedConfig, canonical)
    if canonical.layer_type:
        config.layer_types = canonical.layer_types
    config.rope_parameters = canonical.rope_parameters
    return config


def _rope_config_4(transformers: Any, canonical: Any) -> Any:
    """4.57: ``rope_theta`` and ``partial_rotary_factor`` on the config, the rest in ``rope_scaling``;
    longrope also reads ``original_max_position_embeddings`` from the config itself.  None (not
    expressible) for RoPE parameters per layer type and for a YaRN factor left to the ratio of the
    lengths (``factor: None``), both 5.x features: 4.57's validation requires a YaRN factor; None too for
    llama3 without ``original_max_position_embeddings``, which 4.57 requires (5.x defaults it)."""
    if canonical.layer_type or (canonical.rope_type == "yarn" and canonical.param("factor") is None):
        return None
    if canonical.rope_type == "llama3" and canonical.param("original_max_position_embeddings") is None:
        return None
    config = _model_config(transformers.PretrainedConfig, canonical)
    params = dict(canonical.rope_parameters)
    config.rope_theta = params.pop("rope_theta")
    config.partial_rotary_factor = params.pop("partial_rotary_factor", 1.0)
    config.rope_scaling = params
    if params["rope_type"] == "longrope" and "original_max_position_embeddings" in params:
        config.original_max_position_embeddings = params["original_max_position_embeddings"]
    return config


def namespace(transformers: Any) -> types.SimpleNamespace:
    """The contract names of an imported ``transformers`` package, in canonical form."""
    version = transformers.__version__
    major = _major(version)
    if major not in SUPPORTED:
        raise ImplError(f"--impl transformers: version {version} is not supported (4.57.x and 5.x are)")
    found: dict[str, Any] = {}
    for api in API.values():
        where = api.where.get(major)
        if where is None:
            continue
        module = importlib.import_module(f"transformers.{where}")
        value = getattr(module, api.name, None)
        if value is not None:
            found[api.name] = value

    if major == "4":
        for name in ("sdpa_mask", "eager_mask"):
            if name in found:
                found[name] = _wrap_mask_builder_4(found[name])
        # the surface check: 4.57's cache_position is exercised through the canonical q_length (and q_offset)
        found["SURFACE_ALIASES"] = {f"{n}(cache_position)": f"{n}(q_length)" for n in ("sdpa_mask", "eager_mask")}
    found["canonical_mask_builder"] = _canonical_mask_builder
    if major == "5" and "ROPE_INIT_FUNCTIONS" in found and "default" not in found["ROPE_INIT_FUNCTIONS"]:
        # GPT-NeoX's default honours partial_rotary_factor (Llama's does not)
        neox = importlib.import_module("transformers.models.gpt_neox.modeling_gpt_neox")
        default = neox.GPTNeoXRotaryEmbedding.compute_default_rope_parameters
        found["ROPE_INIT_FUNCTIONS"] = {"default": default, **found["ROPE_INIT_FUNCTIONS"]}
    found["rope_config"] = functools.partial(_rope_config_5 if major == "5" else _rope_config_4, transformers)

    if "GradientCheckpointingLayer" in found:
        found["CHECKPOINTING_CACHE_KWARGS"] = _cache_kwargs(found["GradientCheckpointingLayer"])
    found["LOGGERS"] = ("transformers",)  # transformers' library logger does not propagate to the root
    ns = types.SimpleNamespace(**found)
    ns.__version__ = version
    ns.transformers_major = major
    return ns


def load(name: str = "transformers") -> Implementation:
    try:
        import transformers
    except ImportError as exc:
        raise ImplError(
            f"--impl {name}: transformers is not installed ({exc}); pip install 'layer-conformance[transformers]'"
        ) from None
    ns = namespace(transformers)
    return Implementation(
        name=name,
        obj=ns,
        origin=transformers.__file__ or "transformers",
        version=transformers.__version__,
        details={"adapter": f"layer_conformance.adapters.transformers (major {ns.transformers_major})"},
    )
