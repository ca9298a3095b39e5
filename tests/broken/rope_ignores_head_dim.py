"""The RoPE init functions take the head dim from ``hidden_size // num_attention_heads`` even when the config
gives ``head_dim`` (a model whose heads are not ``hidden_size / heads`` wide, as Gemma's and Mistral Nemo's;
transformers #32495 fixed it for 4.44)."""

import types

from layer_conformance.reference import rope as _ref

dynamic_rope_update = _ref.dynamic_rope_update


def _ignoring_head_dim(fn):
    def init(config, device=None, seq_len=None, layer_type=None, **kwargs):
        fields = {k: v for k, v in vars(config).items() if k != "head_dim"}
        return fn(types.SimpleNamespace(**fields), device, seq_len, layer_type, **kwargs)

    return init


ROPE_INIT_FUNCTIONS = {
    key: fn if key == "proportional" else _ignoring_head_dim(fn) for key, fn in _ref.ROPE_INIT_FUNCTIONS.items()
}

KILLED_BY = [
    "test_rope.py::test_init_function_matches_float64_formula",
    "test_rope.py::test_init_function_matches_reference",
]
