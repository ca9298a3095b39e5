"""A registered kernel returns its output as [batch, heads, q_len, head_dim] (not transposed)."""

from tests.broken._kernel import CAPABILITIES, KEY, correct_kernel, registries


def kernel(*args, **kwargs):
    out, weights = correct_kernel(*args, **kwargs)
    return out.transpose(1, 2), weights


AttentionInterface, AttentionMaskInterface = registries(kernel)
ATTENTION_BACKENDS = {KEY: CAPABILITIES}

KILLED_BY = ["test_attention.py::test_output_layout"]
