"""eager_attention_forward defaults dropout to 0.1 instead of 0.0."""

from layer_conformance.reference import attention as _ref

sdpa_attention_forward = _ref.sdpa_attention_forward


def eager_attention_forward(module, query, key, value, attention_mask, scaling, dropout=0.1, **kwargs):
    return _ref.eager_attention_forward(module, query, key, value, attention_mask, scaling, dropout)


KILLED_BY = ["test_attention.py::test_dropout_defaults_to_zero"]
