"""A registered kernel caps the scores after adding the mask, so masked keys get -softcap, not -inf."""

import torch

from tests.broken._kernel import CAPABILITIES, KEY, correct_kernel, registries


def kernel(module, query, key, value, attention_mask, softcap=None, scaling=None, **kwargs):
    if softcap is None:
        return correct_kernel(module, query, key, value, attention_mask, scaling=scaling, **kwargs)
    groups = getattr(module, "num_key_value_groups", 1)
    k, v = key.repeat_interleave(groups, 1), value.repeat_interleave(groups, 1)
    scores = query @ k.transpose(-2, -1) * scaling
    if attention_mask is not None:
        scores = scores + attention_mask
    weights = (softcap * torch.tanh(scores / softcap)).softmax(-1)
    return (weights @ v).transpose(1, 2).contiguous(), weights


AttentionInterface, AttentionMaskInterface = registries(kernel)
ATTENTION_BACKENDS = {KEY: CAPABILITIES}

KILLED_BY = ["test_attention.py::test_softcap_follows_the_declared_rule"]
