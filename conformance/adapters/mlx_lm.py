"""mlx-lm as an implementation: its rotary embeddings, through the rotation they compute (on MLX, via numpy).

``--impl mlx_lm`` (entry point of group ``layer_conformance.adapters``), in an
environment holding MLX's CPU build and mlx-lm (``pip install "mlx[cpu]" mlx-lm``;
no Apple hardware needed).  Checked against MLX 0.32.4, mlx-lm 0.32.2.

What mlx-lm implements of the contract, through its public pieces:

* ``rotary_embedding``: the module ``mlx_lm.models.rope_utils.initialize_rope(dims,
  base, traditional, scaling_config, max_position_embeddings)`` returns for the
  config -- ``nn.RoPE`` (default, linear), ``DynamicNTKScalingRoPE``,
  ``Llama3RoPE``, ``YarnRoPE``, ``SuScaledRoPE`` (longrope), ``ProportionalRoPE``
  -- built as mlx-lm's models build it (``dims`` the rotated features,
  ``int(head_dim * partial_rotary_factor)``; the whole head for proportional,
  whose ``partial_rotary_factor`` it reads itself; ``traditional=True`` is the
  interleaved layout) and called as they call it: ``rope(x, offset=start)`` on an
  ``mx.array`` ``[batch, heads, seq, head_dim]``, one call per batch row (a row's
  positions are consecutive from its offset, as in a model; rows of other
  positions are unsupported).  The scaling config is passed as it is, as
  mlx-lm's models pass their HF config's: ``initialize_rope`` reads the keys it
  knows and ignores the others, and the suite judges what it computes.  Tensors
  go through numpy (bfloat16 through float32, exactly).  Unsupported: the
  interleaved layout for longrope (``SuScaledRoPE`` has no interleaved form),
  and a dynamic batch whose rows end at different positions (mlx-lm's dynamic
  NTK takes its length from the call).
* ``ROPE_INIT_FUNCTIONS`` for those seven types, read off the rotation
  (:func:`layer_conformance.adapters.common.init_functions`).

* an attention backend, ``mlx`` (its ``ATTENTION_FUNCTIONS``: mlx-lm has no registry): mlx-lm's
  ``mlx_lm.models.base.scaled_dot_product_attention(queries, keys, values,
  cache=None, scale, mask, sinks)`` -- what every mlx-lm model calls, which runs
  ``mx.fast.scaled_dot_product_attention`` -- on the query, key and value as
  mx arrays (grouped heads as they are: MLX takes the key and value heads
  untiled), with the mask the suite gives in the form mlx-lm's models pass
  (boolean, True attends; an additive float mask too, which MLX documents) and
  the sinks (``s_aux``, one logit per head).  Declared: no mask is no masking
  (mlx-lm passes ``"causal"`` or an array for a causal mask), no weights
  returned, dropout and softcap rejected (MLX's kernel has neither), and no
  gradients (MLX computes it, not torch's autograd: backward raises, naming
  it).  mlx-lm has no mask builder of the contract's form (its models build
  masks inside them): the properties of a backend's own builder are missing.
* ``causal_mask_function`` and ``sliding_window_causal_mask_function(w)``:
  ``mlx_lm.models.base.create_causal_mask(n, window_size=w)`` read at
  ``(q_idx, kv_idx)``.

Missing: the other mask functions and the builders, the contract's eager and
sdpa functions (mlx-lm has one attention function: the backend above),
``dynamic_rope_update``, ``GradientCheckpointingLayer`` and the pytorch utilities.
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
#: The rules mlx-lm documents doing differently, with its own words or source.
DIFFERENCES = (
    *(
        Difference(
            pattern=f"test_rope.py::test_absent_optional_keys_take_their_documented_defaults[*-{rope_type}]",
            rule=f"an original_max_position_embeddings a config leaves out is {rule}, not the model's maximum length",
            source=f"mlx_lm/models/rope_utils.py: {where}",
            failure=failure,
        )
        for rope_type, rule, where, failure in (
            ("llama3", "8192 (scaling_config.get('original_max_position_embeddings', 8192))", "Llama3RoPE.__init__",
             "AssertionError"),
            ("yarn", "4096 (YarnRoPE's argument default)", "YarnRoPE.__init__", "AssertionError"),
            ("longrope", "required (scaling_config['original_max_position_embeddings'])", "initialize_rope",
             "KeyError: original_max_position_embeddings"),
        )
    ),
    Difference(
        pattern="test_rope.py::test_*[*yarn*]",
        rule="YaRN's factor is required: initialize_rope passes scaling_config['factor'] to YarnRoPE, which compares "
        "it with 1, so a config that leaves it to the lengths (factor None; transformers then uses "
        "max_position_embeddings / original_max_position_embeddings, and its own validation lists factor as "
        "required) raises",
        source="mlx_lm/models/rope_utils.py: initialize_rope, YarnRoPE.yarn_get_mscale",
        failure="TypeError: '<=' not supported between instances of 'NoneType'",
    ),
)  # fmt: skip

_NOT_IN = "not in mlx-lm"
_ONE = "mlx-lm has one attention function, models.base.scaled_dot_product_attention: the backend 'mlx'"
_MASKS = "mlx-lm's models build their masks inside them (create_causal_mask, create_attention_mask)"
#: Why mlx-lm has no counterpart for the contract names it lacks.
MISSING = {
    **{name: _NOT_IN for name in ("Conv1D", "apply_chunking_to_forward", "find_pruneable_heads_and_indices",
                                  "prune_linear_layer", "prune_conv1d_layer", "prune_layer",
                                  "GradientCheckpointingLayer", "bidirectional_mask_function", "sliding_window_overlay",
                                  "chunked_overlay", "chunked_causal_mask_function", "padding_mask_function",
                                  "and_masks", "or_masks")},
    **{name: _ONE for name in ("eager_attention_forward", "sdpa_attention_forward", "AttentionInterface")},
    **{name: _MASKS for name in ("AttentionMaskInterface", "sdpa_mask", "eager_mask")},
    "dynamic_rope_update": "mlx-lm's rotary modules take the length from each call: no state to update",
    **dict.fromkeys(by_group("model_masks"), _MASKS),
}  # fmt: skip


def _module(config: Any, interleaved: bool) -> Any:
    """The rotary module an mlx-lm model builds for ``config``: the scaling config passed as it is (mlx-lm's
    models pass their HF config's dict; ``initialize_rope`` reads the keys it knows)."""
    from mlx_lm.models.rope_utils import initialize_rope

    from ..missing import unsupported

    if config.rope_type == "longrope" and interleaved:
        unsupported("rotary_embedding(interleaved)", "mlx_lm", "SuScaledRoPE has no traditional (interleaved) form")
    scaling = {"rope_type": config.rope_type, **{k: list(v) if isinstance(v, tuple) else v for k, v in config.params}}
    dims = config.head_dim if config.rope_type == "proportional" else config.rotary_dim
    if config.rope_type == "proportional":
        scaling.setdefault("partial_rotary_factor", config.partial_rotary_factor)
    return initialize_rope(
        dims,
        config.rope_theta,
        interleaved,
        scaling_config=scaling,
        max_position_embeddings=config.max_position_embeddings,
    )


def _to_mx(mx: Any, x: Any) -> Any:
    import torch

    array = mx.array(x.detach().cpu().to(torch.float32).numpy())
    return array.astype({torch.float16: mx.float16, torch.bfloat16: mx.bfloat16}.get(x.dtype, mx.float32))


def _to_torch(mx: Any, a: Any, like: Any) -> Any:
    import numpy as np
    import torch

    return torch.from_numpy(np.array(a.astype(mx.float32))).to(device=like.device, dtype=like.dtype)


def _rotary_embedding(mx: Any) -> Any:
    def rotary_embedding(config, query, key, position_ids, interleaved=False):
        import torch

        from ..missing import unsupported

        starts = position_ids[:, 0]
        consecutive = position_ids - starts[:, None] == torch.arange(position_ids.shape[1], device=position_ids.device)
        if not bool(consecutive.all()):
            unsupported("rotary_embedding(position_ids)", "mlx_lm", "positions not consecutive from a row's offset")
        ends = position_ids[:, -1]
        if config.rope_type == "dynamic" and bool((ends != ends.max()).any()):
            unsupported("rotary_embedding(position_ids)", "mlx_lm", "dynamic NTK over rows ending at other positions")
        rope = _module(config, interleaved)
        outputs = []
        for t in (query, key):
            rows = [rope(_to_mx(mx, t[b : b + 1]), offset=int(starts[b])) for b in range(t.shape[0])]
            outputs.append(_to_torch(mx, mx.concatenate(rows, axis=0), t))
        return outputs[0], outputs[1]

    return rotary_embedding


#: What the backend ``mlx`` documents (:class:`layer_conformance.contract.Backend`'s fields).
BACKEND = {
    "builder": "mlx",
    "mask": "boolean",
    "additive": True,
    "none_mask": "all",
    "weights": "none",
    "dropout": "rejected",
    "softcap": "rejected",
    "sinks": "supported",
    "backward": "rejected",
}


def _no_backward(out: Any) -> Any:
    """``out`` as the result of a function torch cannot differentiate: its backward raises, naming it."""
    import torch

    class MLX(torch.autograd.Function):
        @staticmethod
        def forward(ctx, *inputs):
            return out.clone()

        @staticmethod
        def backward(ctx, *grads):
            raise NotImplementedError("mlx attention: no backward (grad) through MLX from torch's autograd")

    return MLX.apply


def _attention(mx: Any) -> Any:
    from mlx_lm.models.base import scaled_dot_product_attention

    def mlx_attention(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs):
        """mlx-lm's ``scaled_dot_product_attention`` as an ``AttentionInterface`` function."""
        import torch

        if dropout:
            raise ValueError(f"mlx attention: dropout={dropout} is not supported (MLX's kernel has no dropout)")
        if kwargs.get("softcap") is not None:
            raise ValueError("mlx attention: softcap is not supported (MLX's kernel has no logit soft-capping)")
        scale = query.shape[-1] ** -0.5 if scaling is None else float(scaling)
        q, k, v = (_to_mx(mx, t) for t in (query, key, value))
        mask = attention_mask
        if mask is not None:
            mask = mx.array(mask.cpu().numpy()) if mask.dtype == torch.bool else _to_mx(mx, mask.to(query.dtype))
        sinks = kwargs.get("s_aux")
        sinks = None if sinks is None else _to_mx(mx, sinks.to(query.dtype))
        out = scaled_dot_product_attention(q, k, v, cache=None, scale=scale, mask=mask, sinks=sinks)
        out = _to_torch(mx, out, query).transpose(1, 2).contiguous()
        inputs = [t for t in (query, key, value) if t.requires_grad]
        return (_no_backward(out)(*inputs) if inputs else out), None

    return mlx_attention


def _mask_function(window: int | None) -> Any:
    import numpy as np
    import torch
    from mlx_lm.models.base import create_causal_mask

    return common.read_mask_table(lambda n: torch.from_numpy(np.array(create_causal_mask(n, window_size=window))))


def causal_mask_function(batch_idx, head_idx, q_idx, kv_idx):
    """mlx-lm's ``create_causal_mask(n)`` read at ``(q_idx, kv_idx)``."""
    return _mask_function(None)(batch_idx, head_idx, q_idx, kv_idx)


def sliding_window_causal_mask_function(sliding_window: int):
    """mlx-lm's ``create_causal_mask(n, window_size=sliding_window)``."""
    return _mask_function(sliding_window)


def _rotary_dim(config: Any) -> int:
    return config.head_dim if config.rope_type == "proportional" else config.rotary_dim


def load(name: str = "mlx_lm") -> Implementation:
    try:
        with common.quiet("mlx_lm"):
            mx = importlib.import_module("mlx.core")
            mlx_lm = importlib.import_module("mlx_lm")
            importlib.import_module("mlx_lm.models.rope_utils")
            importlib.import_module("mlx_lm.models.base")
    except ImportError as exc:
        raise ImplError(f"--impl {name}: mlx-lm is not importable here ({exc}); {ADAPTER.install}") from None
    version = getattr(mlx_lm, "__version__", None) or md.version("mlx-lm")
    rotation = _rotary_embedding(mx)
    namespace = types.SimpleNamespace(
        rotary_embedding=rotation,
        ROPE_INIT_FUNCTIONS=common.init_functions(TYPES, rotation, _rotary_dim, lambda c: c.head_dim),
        rope_config=common.flat_config,  # its scaling config is built from it
        ATTENTION_FUNCTIONS={"mlx": _attention(mx)},
        ATTENTION_BACKENDS={"mlx": BACKEND},
        causal_mask_function=causal_mask_function,
        sliding_window_causal_mask_function=sliding_window_causal_mask_function,
        DESIGN_DIFFERENCES=DIFFERENCES,
        MISSING_REASONS=MISSING,
        __version__=version,
    )
    return Implementation(
        name=name,
        obj=namespace,
        origin=mlx_lm.__file__ or "mlx_lm",
        version=version,
        details={
            "adapter": "layer_conformance.adapters.mlx_lm",
            "judged": "rope_utils.initialize_rope modules, called per row from its offset; "
            "models.base.scaled_dot_product_attention (backend mlx); models.base.create_causal_mask",
            "mlx": getattr(mx, "__version__", "?"),
        },
    )


#: The entry point ``mlx_lm`` of group ``layer_conformance.adapters`` (``pyproject.toml``).
ADAPTER = Adapter(
    load,
    requires=("mlx", "mlx_lm"),
    install="pip install 'mlx[cpu]' mlx-lm (MLX's Linux CPU build), or: layer-conformance sweep mlx_lm",
    recipe=Recipe(("mlx[cpu]==0.32.4", "mlx-lm==0.32.2")),
)
