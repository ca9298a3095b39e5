"""A registered kernel that declares dropout rejected (as flex attention does) ignores ``dropout > 0`` silently
instead of raising an error naming it."""

from tests.broken._kernel import CAPABILITIES, KEY, correct_kernel, registries


def kernel(module, query, key, value, attention_mask, dropout=0.0, **kwargs):
    return correct_kernel(module, query, key, value, attention_mask, dropout=0.0, **kwargs)


AttentionInterface, AttentionMaskInterface = registries(kernel)
ATTENTION_BACKENDS = {KEY: {**CAPABILITIES, "dropout": "rejected"}}

KILLED_BY = ["test_attention.py::test_dropout_follows_the_declared_rule"]
