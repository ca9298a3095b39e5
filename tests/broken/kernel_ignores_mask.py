"""A registered kernel ignores its attention mask."""

from tests.broken._kernel import CAPABILITIES, KEY, correct_kernel, registries


def kernel(module, query, key, value, attention_mask, **kwargs):
    return correct_kernel(module, query, key, value, None, **kwargs)


AttentionInterface, AttentionMaskInterface = registries(kernel)
ATTENTION_BACKENDS = {KEY: CAPABILITIES}

KILLED_BY = [
    "test_attention.py::test_matches_float64_definition",
    "test_attention.py::test_masking_a_key_equals_deleting_it",
    "test_attention.py::test_values_under_its_own_builders_mask_match_the_definition",
]
