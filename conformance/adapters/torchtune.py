"""torchtune as an implementation: its rotary embeddings, judged through the rotation they compute.

``--impl torchtune`` (entry point of group ``layer_conformance.adapters``), in an
environment holding torchtune (``pip install torchtune==0.6.1 torchao==0.14.1``:
the newest torchao breaks ``import torchtune.modules``).  Checked against
torchtune 0.6.1.

What torchtune implements of the contract, and how it is reached, through its
public modules:

* ``rotary_embedding`` for ``default`` (``torchtune.modules.RotaryPositionalEmbeddings(dim,
  max_seq_len, base)``) and ``llama3`` (``torchtune.models.llama3_1._position_embeddings.Llama3ScaledRoPE(dim,
  max_seq_len, base, scale_factor, low_freq_factor, high_freq_factor, old_context_len)``),
  built for the config as a torchtune model builder does (``dim`` the head size,
  ``max_seq_len`` the model's maximum length) and called as its attention calls
  it: ``module(x, input_pos=position_ids)`` on ``[batch, seq, heads, head_dim]``.
  torchtune rotates adjacent pairs (GPT-J's interleaved layout) and the whole of
  its input: the half layout and a partial rotary factor are unsupported.  An
  option of the config torchtune's module has no argument for is unsupported
  too; one the config leaves out takes torchtune's default (``old_context_len``
  8192, Llama 3.1's).
* ``ROPE_INIT_FUNCTIONS`` for those two types: the frequencies and attention
  scaling read off that rotation (:func:`layer_conformance.adapters.common.init_functions`).

The other types (linear, dynamic, yarn, longrope, proportional) torchtune does
not have: missing.  So are the mask functions and builders, the attention
functions (torchtune's attention calls ``torch.nn.functional.scaled_dot_product_attention``
itself, with its own masks), ``dynamic_rope_update``, and the pytorch utilities.
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

TYPES = ("default", "llama3")
#: The options of each type torchtune's modules take, and the argument each becomes.
_OPTIONS = {
    "default": {},
    "llama3": {
        "factor": "scale_factor",
        "low_freq_factor": "low_freq_factor",
        "high_freq_factor": "high_freq_factor",
        "original_max_position_embeddings": "old_context_len",
    },
}

#: The rules torchtune documents doing differently, with its own words.
DIFFERENCES = (
    Difference(
        pattern="test_rope.py::test_absent_optional_keys_take_their_documented_defaults[*-llama3]",
        rule="Llama3ScaledRoPE's old_context_len defaults to 8192 ('old_context_len (int): old context length for "
        "scaling theta. Default: 8192', Llama 3.1's), not to the model's max_position_embeddings",
        source="torchtune/models/llama3_1/_position_embeddings.py: Llama3ScaledRoPE.__init__(..., old_context_len=8192)",
        failure="AssertionError",
    ),
)

_ATTENTION = "torchtune's attention calls scaled_dot_product_attention itself, with its own masks"
_NOT_IN = "not in torchtune"
#: Why torchtune has no counterpart for the contract names it lacks.
MISSING = {
    **dict.fromkeys(common.UTILITY_NAMES, _NOT_IN),
    "GradientCheckpointingLayer": "torchtune checkpoints through torch.distributed's checkpoint wrappers",
    **dict.fromkeys(common.ATTENTION_NAMES, _ATTENTION),
    "dynamic_rope_update": "torchtune's rotary modules have no per-forward update",
    **dict.fromkeys(by_group("model_masks"), _ATTENTION),
}  # fmt: skip


def _head_dim(config: Any) -> int:
    return config.head_dim


def _module(torchtune: Any, config: Any) -> Any:
    """The rotary module a torchtune model builder makes for ``config``."""
    from ..missing import unsupported

    if config.partial_rotary_factor != 1.0:
        unsupported("rotary_embedding", "torchtune", "a partial rotary factor: its rotary modules rotate every feature")
    options = {k: v for k, v in config.params if k != "partial_rotary_factor"}  # 1.0 here, written out
    unknown = sorted(set(options) - set(_OPTIONS[config.rope_type]))
    if unknown:
        unsupported(f"ROPE_INIT_FUNCTIONS[{config.rope_type!r}]", "torchtune", f"no argument for {', '.join(unknown)}")
    kwargs = {_OPTIONS[config.rope_type][key]: value for key, value in options.items()}
    common_args = {"dim": config.head_dim, "max_seq_len": config.max_position_embeddings, "base": config.rope_theta}
    if config.rope_type == "llama3":
        from torchtune.models.llama3_1._position_embeddings import Llama3ScaledRoPE

        return Llama3ScaledRoPE(**common_args, **kwargs)
    return torchtune.modules.RotaryPositionalEmbeddings(**common_args)


def _rotary_embedding(torchtune: Any) -> Any:
    def rotary_embedding(config, query, key, position_ids, interleaved=False):
        from ..missing import unsupported

        if not interleaved:
            unsupported("rotary_embedding(interleaved)", "torchtune", "it rotates adjacent pairs (GPT-J's layout) only")
        module = _module(torchtune, config).to(query.device)
        # torchtune's layout: [batch, seq, heads, head_dim]
        out_q = module(query.transpose(1, 2), input_pos=position_ids).transpose(1, 2)
        out_k = module(key.transpose(1, 2), input_pos=position_ids).transpose(1, 2)
        return out_q.contiguous(), out_k.contiguous()

    return rotary_embedding


def load(name: str = "torchtune") -> Implementation:
    try:
        with common.quiet("torchao", "torchtune"):
            torchtune = importlib.import_module("torchtune")
            importlib.import_module("torchtune.modules")
            importlib.import_module("torchtune.models.llama3_1._position_embeddings")
    except ImportError as exc:
        raise ImplError(f"--impl {name}: torchtune is not importable here ({exc}); {ADAPTER.install}") from None
    rotation = _rotary_embedding(torchtune)
    namespace = types.SimpleNamespace(
        rotary_embedding=rotation,
        ROPE_INIT_FUNCTIONS=common.init_functions(TYPES, rotation, lambda c: c.head_dim, _head_dim, interleaved=True),
        rope_config=common.flat_config,  # torchtune reads no HF config
        DESIGN_DIFFERENCES=DIFFERENCES,
        MISSING_REASONS=MISSING,
        __version__=getattr(torchtune, "__version__", None) or md.version("torchtune"),
    )
    return Implementation(
        name=name,
        obj=namespace,
        origin=torchtune.__file__ or "torchtune",
        version=namespace.__version__,
        details={
            "adapter": "layer_conformance.adapters.torchtune",
            "judged": "RotaryPositionalEmbeddings, Llama3ScaledRoPE",
        },
    )


#: The entry point ``torchtune`` of group ``layer_conformance.adapters`` (``pyproject.toml``).
ADAPTER = Adapter(
    load,
    requires=("torchtune",),
    install="pip install torchtune==0.6.1 torchao==0.14.1, or: layer-conformance sweep torchtune",
    recipe=Recipe(("torchtune==0.6.1", "torchao==0.14.1")),
)
