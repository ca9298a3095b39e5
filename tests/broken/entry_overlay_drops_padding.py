"""create_causal_mask hands the builder no padding mask once an overlay (or_mask_function / and_mask_function)
is given: an image-token overlay lets queries attend padded keys."""

from ._entry import AttentionMaskInterface, ref  # noqa: F401


def create_causal_mask(config, inputs_embeds, attention_mask, position_ids=None, **overlays):
    if any(fn is not None for fn in overlays.values()):
        attention_mask = None
    return ref.create_causal_mask(config, inputs_embeds, attention_mask, position_ids, **overlays)


KILLED_BY = ["test_model_masks.py::test_entry_point_calls_the_builder_the_config_selects"]
