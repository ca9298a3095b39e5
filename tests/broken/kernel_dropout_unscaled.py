"""A registered kernel drops weights but does not scale the survivors by 1 / (1 - p)."""

from tests.broken._kernel import CAPABILITIES, KEY, correct_kernel, registries


def kernel(module, query, key, value, attention_mask, dropout=0.0, **kwargs):
    out, weights = correct_kernel(module, query, key, value, attention_mask, dropout=dropout, **kwargs)
    if module.training and dropout > 0:
        groups = getattr(module, "num_key_value_groups", 1)
        weights = weights * (1 - dropout)
        out = (weights @ value.repeat_interleave(groups, 1)).transpose(1, 2).contiguous()
    return out, weights


AttentionInterface, AttentionMaskInterface = registries(kernel)
ATTENTION_BACKENDS = {KEY: CAPABILITIES}

KILLED_BY = ["test_attention.py::test_dropout_follows_the_declared_rule"]
