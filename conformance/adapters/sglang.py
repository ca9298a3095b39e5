"""SGLang as an implementation: its rotary embeddings, judged through the rotation they compute.

``--impl sglang`` (entry point of group ``layer_conformance.adapters``), in an
environment holding SGLang (``pip install sglang==0.5.23``: it brings its own
torch, 2.14.1, and cannot share an environment with the suite's CPU pin; see
:data:`ADAPTER`'s recipe).  Checked against sglang 0.5.23.

On a machine without a CUDA device the adapter selects SGLang's CPU engine
before it imports SGLang (``SGLANG_USE_CPU_ENGINE=1``, unless the variable is
set already: without it, building a rotary module reaches for another engine's
custom ops and fails) and says so in the report header (``engine``).

What SGLang implements of the contract, and how it is reached -- always through
its public rotary modules, built as its model code builds them:

* ``rotary_embedding``: the module ``sglang.srt.layers.rotary_embedding.get_rope``
  returns, built as ``sglang/srt/models/llama.py`` builds it (``get_rope(head_dim,
  rotary_dim, max_position=max_position_embeddings, base=rope_theta,
  rope_scaling=config.rope_parameters, is_neox_style, dtype)``, the whole
  standardized ``rope_parameters`` as ``rope_scaling``; ``rotary_dim`` the head
  size times the partial rotary factor, as SGLang's models with a partial factor
  pass it) and ``proportional`` as ``sglang/srt/models/gemma4_causal.py`` builds
  it (``rotary_dim=head_dim``, ``rope_scaling={"rope_type": ...}``,
  ``partial_rotary_factor``); called as the model calls it, tokens flattened
  (``module(positions, query, key)``, which dispatches to SGLang's CPU path; the
  cache in the query's dtype, as for a model loaded in that dtype).  SGLang
  serves no position past the context length it derives for the model
  (``sglang.srt.utils.hf_transformers.common.get_context_length``): those
  examples are unsupported.  ``is_neox_style=False`` is the interleaved layout.
  A config ``get_rope`` refuses with a ``ValueError`` is unsupported, with its
  message.
* ``ROPE_INIT_FUNCTIONS`` for every type of the contract ``get_rope`` builds
  (default, linear, dynamic, yarn, longrope, llama3, proportional): the
  frequencies and attention scaling read off that rotation
  (:func:`layer_conformance.adapters.common.init_functions`); SGLang has no init
  functions of transformers' form.
* the RoPE parameters SGLang reads come from the HF config, standardized by the
  transformers it depends on (:func:`~layer_conformance.adapters.common.standard_parameters`).

Missing, with the reason: ``dynamic_rope_update`` (SGLang computes its caches
once, when the module is built), the mask functions, builders, entry points and
attention backends (SGLang's attention runs in its engine: ``RadixAttention``
over a paged KV cache, one ``ForwardBatch`` per call, not functions of the
contract's call form), the pytorch utilities and ``GradientCheckpointingLayer``
(not in SGLang).

``get_rope`` memoises the modules it builds (``factory._ROPE_DICT``); every call
here builds a fresh one and leaves the memo as it found it, so no example reuses
a module an earlier one built or changed.
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import os
import sys
import types
from typing import Any

from ..contract import by_group
from ..implementation import Adapter, Difference, Implementation, ImplError, Recipe
from . import common

__all__ = ["ADAPTER", "DIFFERENCES", "load"]

TYPES = ("default", "linear", "dynamic", "yarn", "longrope", "llama3", "proportional")
ENGINE_VARIABLE = "SGLANG_USE_CPU_ENGINE"
ROTARY = "sglang.srt.layers.rotary_embedding"
FACTORY = f"{ROTARY}.factory"  # where get_rope memoises its modules (_ROPE_DICT)

#: The rules SGLang documents doing differently, with its own words or source.
DIFFERENCES = (
    Difference(
        pattern="test_rope.py::test_*[*yarn*]",
        rule="YaRN's factor is required: get_rope reads rope_scaling['factor'] (its default 1.0 only when the key is "
        "absent) and YaRNScalingRotaryEmbedding computes yarn_get_mscale(factor), so a config that leaves it to the "
        "lengths (factor None; transformers then uses max_position_embeddings / original_max_position_embeddings, "
        "and its own validation lists factor as required) raises",
        source="sglang/srt/layers/rotary_embedding/factory.py: scaling_factor = _get_rope_param(rope_scaling, "
        "'factor', 1.0, scaling_type); transformers: RopeParameters._validate_yarn_rope_parameters, required_keys",
        failure="TypeError: '<=' not supported between instances of 'NoneType' and 'int'",
    ),
)

_ENGINE = (
    "SGLang's attention and its masks run in its engine (RadixAttention over a paged KV cache, one ForwardBatch per "
    "call): no function of the contract's call form"
)
_NOT_IN = "not in SGLang (a model-training or transformers utility)"
#: Why SGLang has no counterpart for the contract names it lacks.
MISSING = {
    **dict.fromkeys(common.UTILITY_NAMES, _NOT_IN),
    "GradientCheckpointingLayer": _NOT_IN,
    **dict.fromkeys(common.ATTENTION_NAMES, _ENGINE),
    "dynamic_rope_update": "SGLang computes its rotary caches once, when the module is built: no per-forward update",
    **dict.fromkeys(by_group("model_masks"), _ENGINE),
}  # fmt: skip


def _select_engine() -> str:
    """Select SGLang's CPU engine where there is no CUDA device (before SGLang is imported); what the header says."""
    import torch

    if os.environ.get(ENGINE_VARIABLE) is not None:
        return f"{ENGINE_VARIABLE}={os.environ[ENGINE_VARIABLE]} (set before the run)"
    if torch.cuda.is_available():
        return "CUDA"
    if "sglang" in sys.modules:  # SGLang reads the variable once, when it is imported: too late to select it
        raise ImplError(
            f"SGLang was imported before the adapter could select its CPU engine (no CUDA device here): set "
            f"{ENGINE_VARIABLE}=1 before whatever imports it (a plugin, a conftest)"
        )
    os.environ[ENGINE_VARIABLE] = "1"
    return f"CPU ({ENGINE_VARIABLE}=1, set by the adapter: no CUDA device here)"


def _arguments(config: Any, interleaved: bool, dtype: Any) -> dict[str, Any]:
    """``get_rope``'s arguments as SGLang's model code passes them for ``config``."""
    params = dict(config.rope_parameters)
    base = params.get("rope_theta", 10000)
    if params.get("rope_type") == "proportional":  # sglang/srt/models/gemma4_causal.py
        return dict(
            head_size=config.head_dim,
            rotary_dim=config.head_dim,
            max_position=config.max_position_embeddings,
            base=base,
            rope_scaling={"rope_type": params["rope_type"]},
            partial_rotary_factor=params.get("partial_rotary_factor", 1.0),
            is_neox_style=not interleaved,
            dtype=dtype,
        )
    return dict(  # sglang/srt/models/llama.py
        head_size=config.head_dim,
        rotary_dim=common.standard_rotary_dim(config),
        max_position=config.max_position_embeddings,
        base=base,
        rope_scaling=params,
        is_neox_style=not interleaved,
        dtype=dtype,
    )


def _module(config: Any, interleaved: bool, dtype: Any) -> Any:
    """The rotary module SGLang's model code builds for ``config`` (the ``get_rope`` its models import), fresh."""
    rope, factory = importlib.import_module(ROTARY), importlib.import_module(FACTORY)
    with common.fresh_get_rope(factory._ROPE_DICT, "sglang", config.rope_parameters.get("rope_type")):
        return rope.get_rope(**_arguments(config, interleaved, dtype))


def _served(transformers: Any, canonical: Any) -> Any:
    """The config as SGLang reads it (transformers' standardization), with the context length SGLang derives."""
    config = common.standard_parameters(transformers, canonical)
    if config is None:
        return None
    from sglang.srt.utils.hf_transformers.common import get_context_length

    config.context_length = int(get_context_length(config.hf))
    return config


def _rotary_embedding() -> Any:
    def rotary_embedding(config, query, key, position_ids, interleaved=False):
        from ..missing import unsupported

        if int(position_ids.max()) >= config.context_length:
            unsupported(
                "rotary_embedding(position_ids)", "sglang", "positions past its context length: SGLang serves none"
            )
        module = _module(config, interleaved, query.dtype)
        return common.rotate_token_rows(module, query, key, position_ids)

    return rotary_embedding


def load(name: str = "sglang") -> Implementation:
    try:
        engine = _select_engine()
    except ImplError as exc:
        raise ImplError(f"--impl {name}: {exc}") from None
    try:
        with common.quiet("sglang"):
            sglang = importlib.import_module("sglang")
            importlib.import_module(ROTARY)
            transformers = importlib.import_module("transformers")
    except ImportError as exc:
        raise ImplError(f"--impl {name}: SGLang is not importable here ({exc}); {ADAPTER.install}") from None
    rotation = _rotary_embedding()
    namespace = types.SimpleNamespace(
        rotary_embedding=rotation,
        ROPE_INIT_FUNCTIONS=common.init_functions(TYPES, rotation, common.standard_rotary_dim, lambda c: c.head_dim),
        rope_config=lambda canonical: _served(transformers, canonical),
        DESIGN_DIFFERENCES=DIFFERENCES,
        MISSING_REASONS=MISSING,
        __version__=getattr(sglang, "__version__", None) or md.version("sglang"),
    )
    return Implementation(
        name=name,
        obj=namespace,
        origin=sglang.__file__ or "sglang",
        version=namespace.__version__,
        details={
            "adapter": "layer_conformance.adapters.sglang",
            "judged": "rotary modules of get_rope, built and called as SGLang's models build and call them",
            "engine": engine,
            "transformers": getattr(transformers, "__version__", "?"),
        },
    )


#: The entry point ``sglang`` of group ``layer_conformance.adapters`` (``pyproject.toml``).
ADAPTER = Adapter(
    load,
    requires=("sglang",),
    install="pip install sglang==0.5.23 in an environment of its own (it brings torch 2.14.1), "
    "or: layer-conformance sweep sglang",
    recipe=Recipe(("sglang==0.5.23",), own_torch=True),
)
