"""The default RoPE frequencies use exponents i / dim instead of 2i / dim."""

import torch

from layer_conformance.reference import rope as _ref

dynamic_rope_update = _ref.dynamic_rope_update


def _default(config, device=None, seq_len=None, layer_type=None):
    params = _ref._params(config, layer_type)
    dim = _ref._rotary_dim(config, params)
    exps = torch.arange(dim // 2, dtype=torch.float32, device=device) / dim
    return 1.0 / params["rope_theta"] ** exps, 1.0


ROPE_INIT_FUNCTIONS = {**_ref.ROPE_INIT_FUNCTIONS, "default": _default}

KILLED_BY = [
    "test_rope.py::test_init_function_matches_float64_formula",
    "test_rope.py::test_init_function_matches_reference",
]
