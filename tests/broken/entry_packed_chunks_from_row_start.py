"""create_chunked_causal_mask confines packed sequences to themselves but counts chunks from the start of the
row, not of each sequence: a packed sequence starting off a chunk boundary gets its chunks cut elsewhere than
alone (transformers before 5.23, which evaluates the mask at the tokens' positions)."""

from ._entry import AttentionMaskInterface, ref  # noqa: F401


def create_chunked_causal_mask(config, inputs_embeds, attention_mask, position_ids=None, **overlays):
    original = ref._at_positions
    ref._at_positions = lambda mask_function, position_ids: mask_function
    try:
        return ref.create_chunked_causal_mask(config, inputs_embeds, attention_mask, position_ids, **overlays)
    finally:
        ref._at_positions = original


KILLED_BY = ["test_model_masks.py::test_entry_point_calls_the_builder_the_config_selects"]
