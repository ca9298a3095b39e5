"""A registered kernel that declares no backward (as flex attention on the CPU does) returns its output cut from
the autograd graph: taking gradients then raises torch's generic error about unused tensors, not one naming the
missing backward."""

from tests.broken._kernel import CAPABILITIES, KEY, correct_kernel, registries


def kernel(module, query, key, value, attention_mask, **kwargs):
    out, weights = correct_kernel(module, query, key, value, attention_mask, **kwargs)
    return out.detach().requires_grad_(True), weights


AttentionInterface, AttentionMaskInterface = registries(kernel)
ATTENTION_BACKENDS = {KEY: {**CAPABILITIES, "backward": "rejected"}}

KILLED_BY = ["test_attention.py::test_gradients_match_the_definition"]
