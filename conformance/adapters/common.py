"""What adapters of other libraries share: reading a library's RoPE off what it computes.

A library rarely exposes transformers' ``ROPE_INIT_FUNCTIONS``; it exposes a
rotary module that rotates a query and a key at given positions.  The contract's
``rotary_embedding`` judges that rotation directly; :func:`init_functions` reads
the frequencies and attention scaling it applies back off it -- rotating a unit
vector per rotated feature at positions 0 and 1 of a sequence of the asked
length, each pair's angle at position 1 is its frequency, the length of its
vector at position 0 its scaling -- so that the init-function properties judge
the library through the same public output, never through its private helpers.
At integer positions a frequency ``f`` and ``f + 2 pi`` rotate alike, so the
frequencies read are those in ``[0, 2 pi)`` (the strategies' configurations stay
below 2).

:func:`standard_parameters` gives a library the RoPE parameters as transformers'
config classes standardize them, for libraries that read HF configs through
the ``transformers`` they depend on (vLLM, SGLang): the optional keys a config
leaves out are filled as they are in those libraries' own input path.

This module imports torch, lazily (the loader imports adapters without it).
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

__all__ = [
    "ATTENTION_NAMES",
    "UTILITY_NAMES",
    "flat_config",
    "fresh_get_rope",
    "init_functions",
    "layout_pairs",
    "quiet",
    "read_mask_table",
    "rotate_token_rows",
    "standard_parameters",
    "standard_rotary_dim",
]

#: The contract's pytorch utilities: what a serving engine or a training framework seldom has.
UTILITY_NAMES = (
    "Conv1D",
    "apply_chunking_to_forward",
    "find_pruneable_heads_and_indices",
    "prune_linear_layer",
    "prune_conv1d_layer",
    "prune_layer",
)
#: The contract's attention functions, mask functions and builders and their registries: what a library whose
#: attention runs its own way (an engine's kernels over a paged cache, a direct call of torch's SDPA) lacks.
ATTENTION_NAMES = (
    "AttentionInterface",
    "eager_attention_forward",
    "sdpa_attention_forward",
    "AttentionMaskInterface",
    "causal_mask_function",
    "bidirectional_mask_function",
    "sliding_window_overlay",
    "chunked_overlay",
    "sliding_window_causal_mask_function",
    "chunked_causal_mask_function",
    "padding_mask_function",
    "and_masks",
    "or_masks",
    "sdpa_mask",
    "eager_mask",
)

#: ``rotate(config, query, key, position_ids, interleaved) -> (query, key)``: a rotary_embedding
Rotation = Callable[..., tuple[Any, Any]]


def layout_pairs(rotary_dim: int, interleaved: bool) -> list[tuple[int, int]]:
    """The feature pairs ``(first, second)`` a rotation turns: ``(i, i + n)`` or ``(2i, 2i + 1)``."""
    n = rotary_dim // 2
    return [(2 * i, 2 * i + 1) if interleaved else (i, i + n) for i in range(n)]


def init_functions(
    types: tuple[str, ...],
    rotation: Rotation,
    rotary_dim: Callable[[Any], int],
    head_dim: Callable[[Any], int],
    interleaved: bool = False,
) -> dict[str, Callable[..., tuple[Any, float]]]:
    """``ROPE_INIT_FUNCTIONS`` for ``types`` read off ``rotation``: each returns ``(inv_freq, attention_scaling)``
    as the rotation applies them in a sequence of ``seq_len`` tokens (2 when None), for the config object the
    implementation's ``rope_config`` hook made.  ``rotary_dim(config)`` is how many features the library
    rotates, ``head_dim(config)`` its head size; ``interleaved`` the layout probed (a library with one
    layout only)."""

    def make(rope_type: str) -> Callable[..., tuple[Any, float]]:
        def init(config: Any, device: Any = None, seq_len: int | None = None) -> tuple[Any, float]:
            import torch

            size, dim = head_dim(config), rotary_dim(config)
            length = max(2, seq_len or 2)
            position_ids = torch.arange(length, device=device)[None]
            # one head per rotated pair's first feature, holding that unit vector at every position
            pairs = layout_pairs(dim, interleaved)
            probe = torch.zeros(1, max(1, len(pairs)), length, size, dtype=torch.float64, device=device)
            for head, (first, _) in enumerate(pairs):
                probe[0, head, :, first] = 1.0
            probe = probe.to(torch.float32)
            rotated, _ = rotation(config, probe, probe[:, :1], position_ids, interleaved=interleaved)
            rotated = rotated.double()
            freqs, scalings = [], []
            for head, (first, second) in enumerate(pairs):
                at0, at1 = rotated[0, head, 0], rotated[0, head, 1]
                scalings.append(math.hypot(float(at0[first]), float(at0[second])))
                angle = math.atan2(float(at1[second]), float(at1[first]))
                # integer positions cannot tell f from f + 2 pi: read it in [0, 2 pi) (RoPE has no negative
                # frequency; one turning backwards reads as 2 pi - f, still not the documented one)
                freqs.append(angle + 2 * math.pi if angle < -1e-6 else angle)
            # as precise as the float32 output it is read from: a float32 tensor, not a float
            scaling = torch.tensor(sum(scalings) / len(scalings) if scalings else 1.0, dtype=torch.float32)
            return torch.tensor(freqs, dtype=torch.float32, device=device), scaling

        init.__name__ = f"{rope_type}_read_off_the_rotation"
        return init

    return {rope_type: make(rope_type) for rope_type in types}


def rotate_token_rows(
    module: Callable[..., tuple[Any, Any]], query: Any, key: Any, position_ids: Any
) -> tuple[Any, Any]:
    """The contract's rotation through a serving engine's rotary module (vLLM's, SGLang's), called as their models
    call it: one row per token, the heads side by side (``module(positions, query, key)`` on ``[tokens, heads x
    head_dim]``, copies of the inputs); the outputs back in the contract's ``[batch, heads, seq, head_dim]``."""
    batch, heads, length, size = query.shape
    kv_heads = key.shape[1]
    flat_q = query.permute(0, 2, 1, 3).reshape(batch * length, heads * size)
    flat_k = key.permute(0, 2, 1, 3).reshape(batch * length, kv_heads * size)
    out_q, out_k = module(position_ids.reshape(-1), flat_q.clone(), flat_k.clone())
    out_q = out_q.reshape(batch, length, heads, size).permute(0, 2, 1, 3)
    out_k = out_k.reshape(batch, length, kv_heads, size).permute(0, 2, 1, 3)
    return out_q.contiguous(), out_k.contiguous()


@contextlib.contextmanager
def fresh_get_rope(memo: dict, library: str, rope_type: Any):
    """Around a call of an engine's memoising ``get_rope`` (vLLM's, SGLang's): its memo ``memo`` empty during the
    call, so that the module is built for this example and not one an earlier caller built or changed, and as it
    was found afterwards; the library's logging kept quiet; a ``ValueError`` of its own validation discards the
    example as unsupported, with the library's message."""
    saved = dict(memo)
    try:
        with quiet(library):
            memo.clear()
            yield
    except ValueError as exc:  # the library's own validation refuses the config, with its reason: no counterpart
        from ..missing import unsupported

        unsupported(f"ROPE_INIT_FUNCTIONS[{rope_type!r}]", library, f"get_rope refuses: {exc}")
    finally:
        memo.clear()
        memo.update(saved)


def flat_config(canonical: Any) -> Any:
    """The ``rope_config`` hook of a library that takes the RoPE options one by one (not an HF config): the
    canonical config itself, None for one nested by layer type (a model of such a library takes one layer's)."""
    return None if canonical.layer_type else canonical


def read_mask_table(table: Callable[[int], Any]) -> Callable[..., Any]:
    """A mask function of the contract's form ``(batch_idx, head_idx, q_idx, kv_idx)`` reading a library's mask
    table: ``table(n)`` is its boolean ``[n, n]`` torch tensor (True attends) for ``n`` positions, read at
    ``(q_idx, kv_idx)`` with ``n`` the largest index asked for plus one."""

    def mask_function(batch_idx, head_idx, q_idx, kv_idx):
        import torch

        q, kv = torch.as_tensor(q_idx), torch.as_tensor(kv_idx)
        return table(max(int(q.max()), int(kv.max())) + 1).to(q.device)[q, kv]

    return mask_function


@contextlib.contextmanager
def quiet(*loggers: str):
    """Keep a library's import and construction chatter (warnings logged, printed) out of the run's output."""
    saved = [(logging.getLogger(name), logging.getLogger(name).level) for name in loggers]
    for logger, _ in saved:
        logger.setLevel(logging.ERROR)
    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink):
            yield
    finally:
        for logger, level in saved:
            logger.setLevel(level)


def standard_parameters(transformers: Any, canonical: Any) -> SimpleNamespace | None:
    """The canonical config as a library reading HF configs through ``transformers`` sees it: the flat RoPE
    parameters after transformers' own standardization (LlamaConfig's), the head size, the maximum length
    and the HF config itself (``hf``).  None for a config nested by layer type (such a library takes one
    layer's parameters)."""
    if canonical.layer_type:
        return None
    with quiet("transformers"):
        config = transformers.LlamaConfig(
            hidden_size=canonical.hidden_size,
            num_attention_heads=canonical.num_attention_heads,
            head_dim=None if canonical.derive_head_dim else canonical.head_dim,
            max_position_embeddings=canonical.max_position_embeddings,
            rope_parameters=dict(canonical.flat_parameters),
        )
    parameters = dict(getattr(config, "rope_parameters", None) or {})
    head = getattr(config, "head_dim", None) or canonical.hidden_size // canonical.num_attention_heads
    return SimpleNamespace(
        rope_parameters=parameters,
        head_dim=head,
        max_position_embeddings=canonical.max_position_embeddings,
        hf=config,
        canonical=canonical,
    )


def standard_rotary_dim(config: Any) -> int:
    """How many features an engine rotates for a config of :func:`standard_parameters`: the head size times the
    partial rotary factor, or the whole head for ``proportional`` (Gemma 4's rotary modules rotate it all, zero
    frequencies past their share)."""
    params = config.rope_parameters
    if params.get("rope_type") == "proportional":
        return config.head_dim
    return int(config.head_dim * params.get("partial_rotary_factor", 1.0))
