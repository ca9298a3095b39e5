"""A registered kernel that does not declare soft-capping ignores ``softcap`` silently instead of raising."""

from tests.broken._kernel import CAPABILITIES, KEY, correct_kernel, registries


def kernel(module, query, key, value, attention_mask, softcap=None, **kwargs):
    return correct_kernel(module, query, key, value, attention_mask, **kwargs)


AttentionInterface, AttentionMaskInterface = registries(kernel)
ATTENTION_BACKENDS = {KEY: {**CAPABILITIES, "softcap": "rejected"}}

KILLED_BY = ["test_attention.py::test_softcap_follows_the_declared_rule"]
