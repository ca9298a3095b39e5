"""A registered kernel declared to return its attention weights returns the scores before the softmax."""

from tests.broken._kernel import CAPABILITIES, KEY, correct_kernel, registries


def kernel(module, query, key, value, attention_mask, scaling=None, **kwargs):
    out, _ = correct_kernel(module, query, key, value, attention_mask, scaling=scaling, **kwargs)
    groups = getattr(module, "num_key_value_groups", 1)
    scores = query @ key.repeat_interleave(groups, 1).transpose(-2, -1) * scaling
    return out, scores


AttentionInterface, AttentionMaskInterface = registries(kernel)
ATTENTION_BACKENDS = {KEY: CAPABILITIES}

KILLED_BY = ["test_attention.py::test_weights_are_distributions_zero_where_masked"]
