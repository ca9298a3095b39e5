"""The linear RoPE init function returns one frequency per rotary dim instead of one per pair of dims."""

import torch

from layer_conformance.reference import rope as _ref

dynamic_rope_update = _ref.dynamic_rope_update


def _linear(config, device=None, seq_len=None, layer_type=None):
    params = _ref._params(config, layer_type)
    dim = _ref._rotary_dim(config, params)
    exps = torch.arange(dim, dtype=torch.float32, device=device) / dim
    return 1.0 / params["rope_theta"] ** exps / params["factor"], 1.0


ROPE_INIT_FUNCTIONS = {**_ref.ROPE_INIT_FUNCTIONS, "linear": _linear}

KILLED_BY = [
    "test_rope.py::test_init_function_matches_float64_formula",
    "test_rope.py::test_attention_scores_depend_only_on_relative_position",
]
