"""create_sliding_window_causal_mask gives the sdpa builder the plain causal mask function and the window only
as ``local_size``, which sdpa_mask reads for its skip decision alone: on the sdpa path the window is lost and
every earlier key is attended (the class of huggingface/transformers#28980)."""

from layer_conformance.reference import sdpa_attention_forward, sdpa_mask  # noqa: F401
from layer_conformance.reference.masks import causal_mask_function

from ._entry import AttentionMaskInterface, ref  # noqa: F401


def create_sliding_window_causal_mask(config, inputs_embeds, attention_mask, position_ids=None, **kw):
    if config._attn_implementation != "sdpa":
        return ref.create_sliding_window_causal_mask(config, inputs_embeds, attention_mask, position_ids, **kw)
    return ref._build(
        config,
        inputs_embeds,
        attention_mask,
        causal_mask_function,
        causal=True,
        position_ids=position_ids,
        local_size=config.sliding_window,
        **kw,
    )


KILLED_BY = ["test_model_masks.py::test_entry_point_mask_reads_as_documented"]
