"""create_masks_for_generate builds the causal mask for sliding-window layers (the window is lost before the
first forward of a compiled generation)."""

from ._entry import AttentionMaskInterface, ref  # noqa: F401

create_causal_mask = ref.create_causal_mask
create_sliding_window_causal_mask = ref.create_sliding_window_causal_mask
create_chunked_causal_mask = ref.create_chunked_causal_mask


def create_masks_for_generate(config, inputs_embeds, attention_mask, position_ids=None, **overlays):
    out = ref.create_masks_for_generate(config, inputs_embeds, attention_mask, position_ids, **overlays)
    if isinstance(out, dict) and "sliding_attention" in out:
        out["sliding_attention"] = ref.create_causal_mask(config, inputs_embeds, attention_mask, position_ids)
    return out


KILLED_BY = ["test_model_masks.py::test_masks_for_generate_follow_the_layer_types"]
