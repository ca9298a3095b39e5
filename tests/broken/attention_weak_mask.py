"""eager_attention_forward clamps the additive mask at -5, so masked keys still get some weight."""

from layer_conformance.reference import attention as _ref

sdpa_attention_forward = _ref.sdpa_attention_forward


def eager_attention_forward(module, query, key, value, attention_mask, scaling, dropout=0.0, **kwargs):
    if attention_mask is not None:
        attention_mask = attention_mask.clamp(min=-5.0)
    return _ref.eager_attention_forward(module, query, key, value, attention_mask, scaling, dropout)


KILLED_BY = [
    "test_attention.py::test_masking_a_key_equals_deleting_it",
    "test_attention.py::test_weights_are_distributions_zero_where_masked",
]
