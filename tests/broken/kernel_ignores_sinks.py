"""A registered kernel that declares attention sinks ignores ``s_aux``."""

from tests.broken._kernel import CAPABILITIES, KEY, correct_kernel, registries


def kernel(module, query, key, value, attention_mask, s_aux=None, **kwargs):
    return correct_kernel(module, query, key, value, attention_mask, **kwargs)


AttentionInterface, AttentionMaskInterface = registries(kernel)
ATTENTION_BACKENDS = {KEY: CAPABILITIES}

KILLED_BY = ["test_attention.py::test_sinks_follow_the_declared_rule"]
