"""create_sliding_window_causal_mask ignores the position ids: sequences packed into one row attend each
other's tokens."""

from ._entry import AttentionMaskInterface, ref  # noqa: F401


def create_sliding_window_causal_mask(config, inputs_embeds, attention_mask, position_ids=None, **kw):
    return ref.create_sliding_window_causal_mask(config, inputs_embeds, attention_mask, None, **kw)


KILLED_BY = ["test_model_masks.py::test_entry_point_calls_the_builder_the_config_selects"]
