"""A registered kernel repeats key/value heads as a block (query head h reads h % kv_heads), not in place
(h // groups)."""

from tests.broken._kernel import CAPABILITIES, KEY, correct_kernel, registries


def kernel(module, query, key, value, attention_mask, **kwargs):
    groups = getattr(module, "num_key_value_groups", 1)
    key, value = key.repeat(1, groups, 1, 1), value.repeat(1, groups, 1, 1)
    flat = type("Module", (), {"num_key_value_groups": 1, "training": module.training})()
    return correct_kernel(flat, query, key, value, attention_mask, **kwargs)


AttentionInterface, AttentionMaskInterface = registries(kernel)
ATTENTION_BACKENDS = {KEY: CAPABILITIES}

KILLED_BY = ["test_attention.py::test_matches_float64_definition"]
