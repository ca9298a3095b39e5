"""Megatron-Core as an implementation: its rotary embeddings and causal masks, through their public outputs.

``--impl megatron`` (entry point of group ``layer_conformance.adapters``), in an
environment holding ``megatron-core`` (0.16.1 resolves beside torch 2.13.0).
Checked against megatron-core 0.16.1.

Megatron builds its rotary angles and masks on the GPU: ``RotaryEmbedding`` and
``YarnRotaryEmbedding`` move their frequencies to ``torch.cuda.current_device()``
(``get_emb``; YaRN already in its constructor), the mask helpers create their
tensors with ``device="cuda"``.  On a machine without CUDA the adapter runs them
under a CPU shim -- ``torch.cuda.current_device`` answers ``"cpu"`` and a
``device="cuda"`` argument becomes ``"cpu"`` while Megatron's code runs --
and changes nothing else.

What Megatron implements of the contract:

* ``rotary_embedding``: ``megatron.core.models.common.embeddings.rotary_pos_embedding.RotaryEmbedding(kv_channels,
  rotary_percent, rotary_interleaved, seq_len_interpolation_factor, rotary_base, rope_scaling,
  rope_scaling_factor, use_cpu_initialization=True)`` for ``default``, ``linear``
  (``seq_len_interpolation_factor``) and ``llama3`` (``rope_scaling``; its
  constructor passes only the factor: low_freq_factor 1, high_freq_factor 4 and
  original length 8192 are fixed), or ``YarnRotaryEmbedding(..., scaling_factor,
  original_max_position_embeddings, beta_fast, beta_slow, mscale, mscale_all_dim,
  correction_range_round_to_int)`` for ``yarn``; its angles ``get_emb(length)``
  (with YaRN's concentration factor) at the positions, applied by
  ``megatron.core.models.common.embeddings.rope_utils.apply_rotary_pos_emb`` (the
  unfused path) on ``[seq, batch, heads, head_dim]``, as its attention does.
  Unsupported: llama3 options other than Megatron's fixed ones, a YaRN config
  without a factor or with an ``attention_factor`` (no argument for it), and the
  interleaved layout for YaRN ("Yarn RoPE does not support interleaved rotary
  embeddings").  A YaRN option left out takes Megatron's default
  (``original_max_position_embeddings`` 4096).
* ``ROPE_INIT_FUNCTIONS`` for those four types, read off the rotation
  (:func:`layer_conformance.adapters.common.init_functions`).
* ``causal_mask_function`` and ``sliding_window_causal_mask_function``:
  ``megatron.core.transformer.utils.get_default_causal_mask(n)`` and
  ``get_sliding_window_causal_mask(n, n, (window - 1, 0))`` (True masks a key:
  the adapter reads them negated) over the positions asked.  Megatron's window
  ``(left, right)`` keeps the query and ``left`` keys before it: transformers'
  ``sliding_window`` ``w`` (``kv > q - w``) is ``(w - 1, 0)``.

Missing: longrope, dynamic and proportional RoPE, the other mask functions, the
mask builders and attention functions (Megatron's attention takes its own masks
and runs Transformer Engine or its unfused core attention), ``dynamic_rope_update``
and the pytorch utilities.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata as md
import types
from collections.abc import Iterator
from typing import Any

from ..contract import by_group
from ..implementation import Adapter, Difference, Implementation, ImplError, Recipe
from . import common

__all__ = ["ADAPTER", "DIFFERENCES", "load"]

TYPES = ("default", "linear", "llama3", "yarn")
#: Megatron's fixed llama 3 options (its constructor passes only the factor).
_LLAMA3_FIXED = {"low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}
_YARN = {
    "factor": "scaling_factor",
    "original_max_position_embeddings": "original_max_position_embeddings",
    "beta_fast": "beta_fast",
    "beta_slow": "beta_slow",
    "mscale": "mscale",
    "mscale_all_dim": "mscale_all_dim",
    "truncate": "correction_range_round_to_int",
}

#: The rules Megatron documents doing differently, with its own words or source.
DIFFERENCES = (
    Difference(
        pattern="test_rope.py::test_absent_optional_keys_take_their_documented_defaults[*-llama3]",
        rule="llama 3 scaling's original context length is fixed at 8192 ('`8192` in the original "
        "implementation'): a config that leaves it out does not get its max_position_embeddings",
        source="megatron/core/models/common/embeddings/rotary_pos_embedding.py: RotaryEmbedding._apply_scaling",
        failure="AssertionError",
    ),
    Difference(
        pattern="test_rope.py::test_absent_optional_keys_take_their_documented_defaults[*-yarn]",
        rule="YaRN's original_max_position_embeddings defaults to 4096 (YarnRotaryEmbedding's argument default), "
        "not to the model's max_position_embeddings",
        source="megatron/core/models/common/embeddings/yarn_rotary_pos_embedding.py: YarnRotaryEmbedding.__init__",
        failure="AssertionError",
    ),
)

_NOT_IN = "not in Megatron-Core"
_ATTENTION = "Megatron's attention takes its own masks and runs Transformer Engine or its unfused core attention"
#: Why Megatron has no counterpart for the contract names it lacks.
MISSING = {
    **{name: _NOT_IN for name in ("Conv1D", "apply_chunking_to_forward", "find_pruneable_heads_and_indices",
                                  "prune_linear_layer", "prune_conv1d_layer", "prune_layer",
                                  "bidirectional_mask_function", "sliding_window_overlay", "chunked_overlay",
                                  "chunked_causal_mask_function", "padding_mask_function", "and_masks", "or_masks")},
    "GradientCheckpointingLayer": "Megatron checkpoints through its own tensor_parallel.checkpoint",
    **{name: _ATTENTION for name in ("AttentionInterface", "eager_attention_forward", "sdpa_attention_forward",
                                     "AttentionMaskInterface", "sdpa_mask", "eager_mask")},
    "dynamic_rope_update": "Megatron's rotary modules have no per-forward update",
    **dict.fromkeys(by_group("model_masks"), _ATTENTION),
}  # fmt: skip


class _OnTheCPU:
    """While Megatron's code runs: ``torch.cuda.current_device()`` is ``"cpu"`` and a ``device="cuda"`` keyword
    becomes ``"cpu"`` (a CPU shim; on a machine with CUDA nothing is changed)."""

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        import torch

        if torch.cuda.is_available():
            yield
            return

        class Mode(torch.overrides.TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):
                kwargs = dict(kwargs or {})
                if kwargs.get("device") in ("cuda", torch.device("cuda")):
                    kwargs["device"] = "cpu"
                return func(*args, **kwargs)

        saved = torch.cuda.current_device
        torch.cuda.current_device = lambda: "cpu"
        try:
            with Mode():
                yield
        finally:
            torch.cuda.current_device = saved


on_the_cpu = _OnTheCPU()


def _module(config: Any, interleaved: bool) -> Any:
    """The rotary module a Megatron model builds for ``config``."""
    from megatron.core.models.common.embeddings.rotary_pos_embedding import RotaryEmbedding
    from megatron.core.models.common.embeddings.yarn_rotary_pos_embedding import YarnRotaryEmbedding

    from ..missing import unsupported

    options = {k: v for k, v in config.params if k != "partial_rotary_factor"}
    common_args = {
        "kv_channels": config.head_dim,
        "rotary_percent": config.partial_rotary_factor,
        "rotary_interleaved": interleaved,
        "rotary_base": config.rope_theta,
        "use_cpu_initialization": True,
    }
    if config.rope_type == "yarn":
        unknown = sorted(set(options) - set(_YARN))
        if unknown:
            unsupported("ROPE_INIT_FUNCTIONS['yarn']", "megatron", f"no argument for {', '.join(unknown)}")
        if options.get("factor") is None:
            unsupported("ROPE_INIT_FUNCTIONS['yarn']", "megatron", "a YaRN config without a factor")
        if interleaved:
            unsupported("rotary_embedding(interleaved)", "megatron", "'Yarn RoPE does not support interleaved'")
        return YarnRotaryEmbedding(**common_args, **{_YARN[k]: v for k, v in options.items()})
    if config.rope_type == "llama3":
        other = {k: v for k, v in options.items() if k != "factor" and _LLAMA3_FIXED.get(k) != v}
        if other:
            unsupported(
                "ROPE_INIT_FUNCTIONS['llama3']",
                "megatron",
                f"{', '.join(sorted(other))} other than its fixed 1, 4 and 8192: its constructor passes the factor only",
            )
        return RotaryEmbedding(**common_args, rope_scaling=True, rope_scaling_factor=options["factor"])
    if config.rope_type == "linear":
        return RotaryEmbedding(**common_args, seq_len_interpolation_factor=options["factor"])
    return RotaryEmbedding(**common_args)


def _rotary_embedding(config, query, key, position_ids, interleaved=False):
    from megatron.core.models.common.embeddings.rope_utils import apply_rotary_pos_emb

    with on_the_cpu():
        module = _module(config, interleaved)
        emb = module.get_emb(int(position_ids.max()) + 1)
        mscale = 1.0
        if isinstance(emb, tuple):  # YaRN: the angles and the concentration factor its attention passes on
            emb, mscale = emb
        # [seq, 1, 1, dim] angles, taken at each row's positions: [seq, batch, 1, dim]
        freqs = emb[:, 0, 0, :].to(query.device)[position_ids].transpose(0, 1)[:, :, None, :]
        settings = types.SimpleNamespace(
            apply_rope_fusion=False, rotary_interleaved=interleaved, multi_latent_attention=False, mrope_section=None
        )
        outputs = []
        for t in (query, key):  # Megatron's layout: [seq, batch, heads, head_dim]
            out = apply_rotary_pos_emb(t.permute(2, 0, 1, 3), freqs, settings, mscale=mscale, cp_group=object())
            outputs.append(out.permute(1, 2, 0, 3).contiguous())
    return outputs[0], outputs[1]


def _mask_table(n: int, window: int | None) -> Any:
    from megatron.core.transformer.utils import get_default_causal_mask, get_sliding_window_causal_mask

    with on_the_cpu():
        masked = get_default_causal_mask(n) if window is None else get_sliding_window_causal_mask(n, n, (window - 1, 0))
    return ~masked.cpu()  # Megatron's True masks a key


def _mask_function(window: int | None) -> Any:
    return common.read_mask_table(lambda n: _mask_table(n, window))


def causal_mask_function(batch_idx, head_idx, q_idx, kv_idx):
    """Megatron's ``get_default_causal_mask`` read at ``(q_idx, kv_idx)``."""
    return _mask_function(None)(batch_idx, head_idx, q_idx, kv_idx)


def sliding_window_causal_mask_function(sliding_window: int):
    """Megatron's ``get_sliding_window_causal_mask`` with window ``(sliding_window - 1, 0)``."""
    return _mask_function(sliding_window)


def load(name: str = "megatron") -> Implementation:
    try:
        with common.quiet("megatron"):
            importlib.import_module("megatron.core.models.common.embeddings.rotary_pos_embedding")
            importlib.import_module("megatron.core.models.common.embeddings.yarn_rotary_pos_embedding")
            importlib.import_module("megatron.core.transformer.utils")
            megatron = importlib.import_module("megatron.core")
    except ImportError as exc:
        raise ImplError(f"--impl {name}: Megatron-Core is not importable here ({exc}); {ADAPTER.install}") from None
    version = getattr(megatron, "__version__", None) or md.version("megatron-core")
    namespace = types.SimpleNamespace(
        rotary_embedding=_rotary_embedding,
        ROPE_INIT_FUNCTIONS=common.init_functions(
            TYPES, _rotary_embedding, lambda c: c.rotary_dim, lambda c: c.head_dim
        ),
        causal_mask_function=causal_mask_function,
        sliding_window_causal_mask_function=sliding_window_causal_mask_function,
        rope_config=common.flat_config,  # Megatron reads its own TransformerConfig
        DESIGN_DIFFERENCES=DIFFERENCES,
        MISSING_REASONS=MISSING,
        __version__=version,
    )
    return Implementation(
        name=name,
        obj=namespace,
        origin=megatron.__file__ or "megatron.core",
        version=version,
        details={
            "adapter": "layer_conformance.adapters.megatron",
            "judged": "RotaryEmbedding, YarnRotaryEmbedding + apply_rotary_pos_emb; the causal mask helpers",
            "shim": "CUDA device requests answered on the CPU" if not _cuda() else "none",
        },
    )


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


#: The entry point ``megatron`` of group ``layer_conformance.adapters`` (``pyproject.toml``).
ADAPTER = Adapter(
    load,
    requires=("megatron",),
    install="pip install megatron-core (0.16.1 beside torch 2.13.0), or: layer-conformance sweep megatron",
    recipe=Recipe(("megatron-core==0.16.1",)),
)
