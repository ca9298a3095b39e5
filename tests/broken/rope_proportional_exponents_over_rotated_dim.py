"""Proportional RoPE computes its exponents over the rotated dims (``2i / rotary_dim``, as partial RoPE does)
instead of over the whole head."""

import torch

from layer_conformance.reference import rope as _ref

dynamic_rope_update = _ref.dynamic_rope_update


def _proportional(config, device=None, seq_len=None, layer_type=None, head_dim_key="head_dim"):
    params = _ref._params(config, layer_type)
    head_dim = _ref._head_dim(config, head_dim_key)
    rotated = int(params.get("partial_rotary_factor", 1.0) * head_dim / 2)
    inv_freq = torch.zeros(head_dim // 2, dtype=torch.float32, device=device)
    if rotated:
        inv_freq[:rotated] = 1.0 / params["rope_theta"] ** _ref._exponents(2 * rotated, device)
    return inv_freq / params.get("factor", 1.0), 1.0


ROPE_INIT_FUNCTIONS = {**_ref.ROPE_INIT_FUNCTIONS, "proportional": _proportional}

KILLED_BY = [
    "test_rope.py::test_init_function_matches_float64_formula",
    "test_rope.py::test_init_function_matches_reference",
]
