"""A registered kernel computes the right values but detaches them: no gradient reaches query, key or value."""

import torch

from tests.broken._kernel import CAPABILITIES, KEY, correct_kernel, registries


def kernel(*args, **kwargs):
    with torch.no_grad():
        out, weights = correct_kernel(*args, **kwargs)
    return out, weights


AttentionInterface, AttentionMaskInterface = registries(kernel)
ATTENTION_BACKENDS = {KEY: CAPABILITIES}

KILLED_BY = ["test_attention.py::test_gradients_match_the_definition"]
