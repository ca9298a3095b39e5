"""The bundled reference implementation of every name in the contract.

Plain torch, clean room: written from the documentation and from observed
behaviour, importing nothing from transformers.  ``pytest --impl reference``
(the default) runs every property against it.
"""

from .attention import AttentionInterface, eager_attention_forward, sdpa_attention_forward
from .entry_points import (
    create_bidirectional_mask,
    create_causal_mask,
    create_chunked_causal_mask,
    create_masks_for_generate,
    create_sliding_window_causal_mask,
    find_packed_sequence_indices,
    packed_sequence_mask_function,
)
from .layers import CHECKPOINTING_CACHE_KWARGS, GradientCheckpointingLayer
from .masks import (
    AttentionMaskInterface,
    and_masks,
    bidirectional_mask_function,
    causal_mask_function,
    chunked_causal_mask_function,
    chunked_overlay,
    eager_mask,
    or_masks,
    padding_mask_function,
    sdpa_mask,
    sliding_window_causal_mask_function,
    sliding_window_overlay,
)
from .pytorch_utils import (
    Conv1D,
    apply_chunking_to_forward,
    find_pruneable_heads_and_indices,
    prune_conv1d_layer,
    prune_layer,
    prune_linear_layer,
)
from .rope import ROPE_INIT_FUNCTIONS, dynamic_rope_update, rotary_embedding

__all__ = [
    "create_bidirectional_mask",
    "create_causal_mask",
    "create_chunked_causal_mask",
    "create_masks_for_generate",
    "create_sliding_window_causal_mask",
    "find_packed_sequence_indices",
    "packed_sequence_mask_function",
    "ROPE_INIT_FUNCTIONS",
    "dynamic_rope_update",
    "rotary_embedding",
    "CHECKPOINTING_CACHE_KWARGS",
    "GradientCheckpointingLayer",
    "AttentionInterface",
    "AttentionMaskInterface",
    "Conv1D",
    "and_masks",
    "apply_chunking_to_forward",
    "bidirectional_mask_function",
    "causal_mask_function",
    "chunked_causal_mask_function",
    "chunked_overlay",
    "eager_attention_forward",
    "eager_mask",
    "find_pruneable_heads_and_indices",
    "or_masks",
    "padding_mask_function",
    "prune_conv1d_layer",
    "prune_layer",
    "prune_linear_layer",
    "sdpa_attention_forward",
    "sdpa_mask",
    "sliding_window_causal_mask_function",
    "sliding_window_overlay",
]
