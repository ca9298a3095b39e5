"""eager_attention_forward returns its output as [batch, heads, q_len, head_dim] (not transposed back)."""

from layer_conformance.reference import attention as _ref

sdpa_attention_forward = _ref.sdpa_attention_forward


def eager_attention_forward(module, query, key, value, attention_mask, scaling, dropout=0.0, **kwargs):
    out, weights = _ref.eager_attention_forward(module, query, key, value, attention_mask, scaling, dropout, **kwargs)
    return out.transpose(1, 2).contiguous(), weights


KILLED_BY = ["test_attention.py::test_output_layout"]
