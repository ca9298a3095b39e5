"""eager_attention_forward ignores ``scaling`` and always uses head_dim ** -0.5."""

from layer_conformance.reference import attention as _ref

sdpa_attention_forward = _ref.sdpa_attention_forward


def eager_attention_forward(module, query, key, value, attention_mask, scaling, dropout=0.0, **kwargs):
    return _ref.eager_attention_forward(module, query, key, value, attention_mask, query.shape[-1] ** -0.5, dropout)


KILLED_BY = [
    "test_attention.py::test_matches_float64_definition",
    "test_attention.py::test_eager_equals_sdpa_values_and_gradients",
    "test_attention.py::test_matches_reference",
]
