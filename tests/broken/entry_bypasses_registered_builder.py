"""create_causal_mask picks its builder from a fixed table of the keys it knows (sdpa, else eager) instead of
the AttentionMaskInterface: a kernel author's builder registered under the config's key is never called."""

from layer_conformance.reference.masks import eager_mask, sdpa_mask

from ._entry import AttentionMaskInterface, ref  # noqa: F401


def create_causal_mask(config, inputs_embeds, attention_mask, position_ids=None, **overlays):
    builder = sdpa_mask if config._attn_implementation == "sdpa" else eager_mask
    original = ref._builder
    ref._builder = lambda config: builder
    try:
        return ref.create_causal_mask(config, inputs_embeds, attention_mask, position_ids, **overlays)
    finally:
        ref._builder = original


KILLED_BY = ["test_model_masks.py::test_entry_point_calls_the_builder_the_config_selects"]
