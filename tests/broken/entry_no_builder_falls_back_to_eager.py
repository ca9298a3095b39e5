"""create_bidirectional_mask builds an eager mask for a key no builder is registered under, where models of
such a backend (an attention kernel registered alone) get no mask."""

from layer_conformance.reference.masks import eager_mask

from ._entry import AttentionMaskInterface, ref  # noqa: F401


def create_bidirectional_mask(config, inputs_embeds, attention_mask, encoder_hidden_states=None, **kw):
    original = ref._builder
    ref._builder = lambda config: AttentionMaskInterface._global_mapping.get(config._attn_implementation, eager_mask)
    try:
        return ref.create_bidirectional_mask(config, inputs_embeds, attention_mask, encoder_hidden_states, **kw)
    finally:
        ref._builder = original


KILLED_BY = ["test_model_masks.py::test_entry_point_calls_the_builder_the_config_selects"]
