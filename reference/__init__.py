"""The bundled reference implementation of every name in the contract.

Plain torch, clean room: written from the documentation and from observed
behaviour, importing nothing from transformers.  ``pytest --impl reference``
(the default) runs every property against it.
"""

from .pytorch_utils import (
    Conv1D,
    apply_chunking_to_forward,
    find_pruneable_heads_and_indices,
    prune_conv1d_layer,
    prune_layer,
    prune_linear_layer,
)

__all__ = [
    "Conv1D",
    "apply_chunking_to_forward",
    "find_pruneable_heads_and_indices",
    "prune_conv1d_layer",
    "prune_layer",
    "prune_linear_layer",
]
