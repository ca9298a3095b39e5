"""A registered kernel declared to drop out only in training mode applies dropout in eval mode too."""

from tests.broken._kernel import CAPABILITIES, KEY, correct_kernel, registries


def kernel(module, query, key, value, attention_mask, dropout=0.0, **kwargs):
    training = type("Module", (), {"num_key_value_groups": module.num_key_value_groups, "training": True})()
    return correct_kernel(training, query, key, value, attention_mask, dropout=dropout, **kwargs)


AttentionInterface, AttentionMaskInterface = registries(kernel)
ATTENTION_BACKENDS = {KEY: CAPABILITIES}

KILLED_BY = ["test_attention.py::test_dropout_follows_the_declared_rule"]
