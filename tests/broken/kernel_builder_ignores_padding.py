"""A registered kernel's mask builder ignores the 2-D padding mask (the kernel itself is correct)."""

from layer_conformance.reference import eager_mask as _eager_mask
from tests.broken._kernel import CAPABILITIES, KEY, correct_kernel, registries


def builder(*args, attention_mask=None, **kwargs):
    return _eager_mask(*args, **kwargs)


AttentionInterface, AttentionMaskInterface = registries(correct_kernel, builder)
ATTENTION_BACKENDS = {KEY: CAPABILITIES}

KILLED_BY = [
    "test_masks.py::test_backend_builder_mask_reads_as_the_mask_function",
    "test_attention.py::test_values_under_its_own_builders_mask_match_the_definition",
]
