"""create_chunked_causal_mask counts chunks from index 0 of every row, whatever its left padding: a left-padded
row's chunk boundaries are shifted by its padding (transformers 4.53-4.55, huggingface/transformers#40214)."""

import torch

from layer_conformance.reference.masks import chunked_causal_mask_function

from ._entry import AttentionMaskInterface, ref  # noqa: F401


def create_chunked_causal_mask(config, inputs_embeds, attention_mask, position_ids=None, **overlays):
    zeros = torch.zeros(inputs_embeds.shape[0], dtype=torch.long, device=inputs_embeds.device)
    return ref._build(
        config,
        inputs_embeds,
        attention_mask,
        chunked_causal_mask_function(config.attention_chunk_size, zeros),
        causal=True,
        position_ids=position_ids,
        local_size=config.attention_chunk_size,
        **overlays,
    )


KILLED_BY = ["test_model_masks.py::test_entry_point_calls_the_builder_the_config_selects"]
