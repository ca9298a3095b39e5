"""torchtitan as an implementation: its rotary embeddings, judged through the rotation they compute.

``--impl torchtitan`` (entry point of group ``layer_conformance.adapters``), in an
environment holding torchtitan (``pip install torchtitan==0.3.0 triton``: the
import chain of ``torchtitan.models`` reaches a module that imports triton; no
kernel of it runs on a CPU).  Checked against torchtitan 0.3.0.

What torchtitan implements of the contract, through its public modules
(``torchtitan.models.common.rope``):

* ``rotary_embedding``: ``ComplexRoPE`` (adjacent pairs: the interleaved layout)
  or ``CosSinRoPE`` (rotate-half: the half layout), built from their ``Config``
  for the config's type -- ``default`` (``scaling="none"``), ``llama3``
  (``scaling="llama"``: ``scaling_factor``, ``low_freq_factor``,
  ``high_freq_factor``, ``original_max_position_embeddings``), ``yarn``
  (``scaling="yarn"``: ``rope_factor``, ``beta_fast``, ``beta_slow``,
  ``original_seq_len``, ``truncate``) -- with ``dim`` the head size and
  ``max_seq_len`` the model's maximum length, and called as its attention calls
  it: ``module(query, key, positions)`` on ``[batch, seq, heads, head_dim]``.
  Unsupported: a partial rotary factor (the modules rotate the whole head), the
  half layout with llama scaling (``CosSinRoPE`` raises "does not support Llama
  scaling"), a YaRN config without a factor (``rope_factor`` is a number) or with
  one below 1 (YaRN applies for ``rope_factor > 1.0`` only; transformers' own
  validation calls such a factor invalid), and a
  position past ``max_seq_len`` (torchtitan asserts it: "position_ids exceed
  max_valid_pos").  An option the config leaves out takes torchtitan's default.
* ``ROPE_INIT_FUNCTIONS`` for those three types, read off the rotation
  (:func:`layer_conformance.adapters.common.init_functions`).

* the mask functions torchtitan's flex attention composes
  (``torchtitan.models.common.attention``), which have the contract's call form
  ``(b, h, q_idx, kv_idx) -> bool``: ``causal_mask_function``
  (``get_causal_mask_mod()``), ``sliding_window_causal_mask_function(w)``
  (``get_sliding_window_mask_mod(w)``) and ``chunked_overlay(chunk_size,
  left_padding)`` (``get_fixed_block_mask_mod(chunk_size)``: its blocks start at
  position 0, so left padding other than none is unsupported).

Missing: linear, dynamic, longrope and proportional RoPE; the other mask functions
(its document mask reads packed positions, not the contract's padding mask), the
mask builders and attention functions (torchtitan turns its mask functions into
flex-attention block masks inside its own attention module), ``dynamic_rope_update``
and the pytorch utilities.
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import types
from typing import Any

from ..contract import by_group
from ..implementation import Adapter, Difference, Implementation, ImplError, Recipe
from . import common

__all__ = ["ADAPTER", "DIFFERENCES", "load"]

TYPES = ("default", "llama3", "yarn")
#: Per type: torchtitan's scaling, and the config options it takes with the field each becomes.
_SCALING = {
    "default": ("none", {}),
    "llama3": (
        "llama",
        {
            "factor": "scaling_factor",
            "low_freq_factor": "low_freq_factor",
            "high_freq_factor": "high_freq_factor",
            "original_max_position_embeddings": "original_max_position_embeddings",
        },
    ),
    "yarn": (
        "yarn",
        {
            "factor": "rope_factor",
            "beta_fast": "beta_fast",
            "beta_slow": "beta_slow",
            "original_max_position_embeddings": "original_seq_len",
            "truncate": "truncate",
        },
    ),
}
#: YaRN options that only set the attention scaling, which torchtitan leaves to the softmax scale by design.
_SCALING_ONLY = ("attention_factor", "mscale", "mscale_all_dim")

#: The rules torchtitan documents doing differently, with its own words or source.
DIFFERENCES = (
    Difference(
        pattern="test_rope.py::test_*[*yarn*]",
        rule="YaRN's attention scaling (mscale) is not in the rotation: 'The YaRN attention \"mscale\" is "
        "intentionally NOT applied here -- the rope stays a pure rotation and the model folds mscale into its "
        "softmax scale' (the frequencies are YaRN's)",
        source="torchtitan/models/common/rope.py: _yarn_inv_freq's docstring",
        failure="AssertionError: (attention scaling|rotated (query|key))",
    ),
    *(
        Difference(
            pattern=f"test_rope.py::test_absent_optional_keys_take_their_documented_defaults[*-{rope_type}]",
            rule="an option a config leaves out takes torchtitan's default, not the model's maximum length: "
            f"{field} {default} (RoPE.Config's field default)",
            source="torchtitan/models/common/rope.py: RoPE.Config",
            failure="AssertionError",
        )
        for rope_type, field, default in (
            ("llama3", "original_max_position_embeddings", 8192),
            ("yarn", "original_seq_len", 4096),
        )
    ),
)

_NOT_IN = "not in torchtitan"
_MASKS = "not in torchtitan: its document mask reads packed positions, not a padding mask"
_COMPOSED = "torchtitan composes its mask functions with torch.nn.attention.flex_attention's (torch's, not its own)"
_ENTRY = (
    "torchtitan's models build their masks in their attention module (flex block masks; documents from EOS "
    "tokens): no entry point taking a config, a padding mask and position ids"
)
_BUILT = "torchtitan turns its mask functions into flex-attention block masks inside its own attention module"
#: Why torchtitan has no counterpart for the contract names it lacks.
MISSING = {
    **{name: _NOT_IN for name in ("Conv1D", "apply_chunking_to_forward", "find_pruneable_heads_and_indices",
                                  "prune_linear_layer", "prune_conv1d_layer", "prune_layer",
                                  "GradientCheckpointingLayer", "eager_attention_forward", "sdpa_attention_forward",
                                  "AttentionInterface", "AttentionMaskInterface")},
    **{name: _MASKS for name in ("bidirectional_mask_function", "sliding_window_overlay", "padding_mask_function")},
    "chunked_causal_mask_function": "torchtitan composes it from its fixed-block and causal mask functions with "
    "torch.nn.attention.flex_attention's and_masks",
    **{name: _COMPOSED for name in ("and_masks", "or_masks")},
    **{name: _BUILT for name in ("sdpa_mask", "eager_mask")},
    "dynamic_rope_update": "torchtitan's rotary modules have no per-forward update",
    **dict.fromkeys(by_group("model_masks"), _ENTRY),
}  # fmt: skip


def _module(config: Any, interleaved: bool) -> Any:
    """The rotary module torchtitan builds for ``config`` (ComplexRoPE, or CosSinRoPE for the half layout)."""
    from torchtitan.models.common.rope import ComplexRoPE, CosSinRoPE

    from ..missing import unsupported

    if config.partial_rotary_factor != 1.0:
        unsupported("rotary_embedding", "torchtitan", "a partial rotary factor: its modules rotate every feature")
    scaling, fields = _SCALING[config.rope_type]
    options = {k: v for k, v in config.params if k != "partial_rotary_factor" and k not in _SCALING_ONLY}
    unknown = sorted(set(options) - set(fields))
    if unknown:
        unsupported(f"ROPE_INIT_FUNCTIONS[{config.rope_type!r}]", "torchtitan", f"no field for {', '.join(unknown)}")
    if config.rope_type == "yarn" and options.get("factor") is None:
        unsupported(
            "ROPE_INIT_FUNCTIONS['yarn']", "torchtitan", "a YaRN config without a factor: rope_factor is a number"
        )
    if config.rope_type == "yarn" and options["factor"] < 1:
        unsupported(
            "ROPE_INIT_FUNCTIONS['yarn']", "torchtitan", "a factor below 1: it applies YaRN only for rope_factor > 1.0"
        )
    if scaling == "llama" and not interleaved:
        unsupported("rotary_embedding(interleaved)", "torchtitan", "CosSinRoPE: 'does not support Llama scaling'")
    cls = ComplexRoPE if interleaved else CosSinRoPE
    values = {fields[k]: v for k, v in options.items()}
    return cls(cls.Config(dim=config.head_dim, max_seq_len=config.max_position_embeddings, theta=config.rope_theta,
                          scaling=scaling, **values))  # fmt: skip


def _rotary_embedding(config, query, key, position_ids, interleaved=False):
    from ..missing import unsupported

    if int(position_ids.max()) >= config.max_position_embeddings:
        unsupported("rotary_embedding(position_ids)", "torchtitan", "positions past max_seq_len: it asserts none is")
    module = _module(config, interleaved).to(query.device)
    # torchtitan's layout: [batch, seq, heads, head_dim]
    out_q, out_k = module(query.transpose(1, 2), key.transpose(1, 2), position_ids)
    return out_q.transpose(1, 2).contiguous(), out_k.transpose(1, 2).contiguous()


def _attention() -> Any:
    with common.quiet("torchtitan"):
        return importlib.import_module("torchtitan.models.common.attention")


def causal_mask_function(batch_idx, head_idx, q_idx, kv_idx):
    """torchtitan's ``get_causal_mask_mod()``."""
    return _attention().get_causal_mask_mod()(batch_idx, head_idx, q_idx, kv_idx)


def sliding_window_causal_mask_function(sliding_window: int):
    """torchtitan's ``get_sliding_window_mask_mod(sliding_window)``."""
    return _attention().get_sliding_window_mask_mod(sliding_window)


def chunked_overlay(chunk_size: int, left_padding: Any = None):
    """torchtitan's ``get_fixed_block_mask_mod(chunk_size)``: blocks from position 0, so no left padding."""
    import torch

    from ..missing import unsupported

    if left_padding is not None and bool((torch.as_tensor(left_padding) != 0).any()):
        unsupported("chunked_overlay(left_padding)", "torchtitan", "its fixed blocks start at position 0")
    return _attention().get_fixed_block_mask_mod(chunk_size)


def load(name: str = "torchtitan") -> Implementation:
    try:
        with common.quiet("torchtitan"):
            torchtitan = importlib.import_module("torchtitan")
            importlib.import_module("torchtitan.models.common.rope")
            importlib.import_module("torchtitan.models.common.attention")
    except ImportError as exc:
        raise ImplError(f"--impl {name}: torchtitan is not importable here ({exc}); {ADAPTER.install}") from None
    version = getattr(torchtitan, "__version__", None) or md.version("torchtitan")
    namespace = types.SimpleNamespace(
        rotary_embedding=_rotary_embedding,
        ROPE_INIT_FUNCTIONS=common.init_functions(
            TYPES, _rotary_embedding, lambda c: c.head_dim, lambda c: c.head_dim, interleaved=True
        ),
        rope_config=common.flat_config,  # torchtitan reads no HF config
        causal_mask_function=causal_mask_function,
        sliding_window_causal_mask_function=sliding_window_causal_mask_function,
        chunked_overlay=chunked_overlay,
        DESIGN_DIFFERENCES=DIFFERENCES,
        MISSING_REASONS=MISSING,
        __version__=version,
    )
    return Implementation(
        name=name,
        obj=namespace,
        origin=torchtitan.__file__ or "torchtitan",
        version=version,
        details={
            "adapter": "layer_conformance.adapters.torchtitan",
            "judged": "ComplexRoPE, CosSinRoPE; get_causal_mask_mod, get_sliding_window_mask_mod, "
            "get_fixed_block_mask_mod",
        },
    )


#: The entry point ``torchtitan`` of group ``layer_conformance.adapters`` (``pyproject.toml``).
ADAPTER = Adapter(
    load,
    requires=("torchtitan",),
    install="pip install torchtitan==0.3.0 triton, or: layer-conformance sweep torchtitan",
    recipe=Recipe(("torchtitan==0.3.0", "triton")),
)
