"""Proportional RoPE multiplies its frequencies by ``factor`` instead of dividing them (off by factor**2)."""

from layer_conformance.reference import rope as _ref

dynamic_rope_update = _ref.dynamic_rope_update


def _proportional(config, device=None, seq_len=None, layer_type=None, head_dim_key="head_dim"):
    inv_freq, scaling = _ref._proportional(config, device, seq_len, layer_type, head_dim_key)
    factor = _ref._params(config, layer_type).get("factor", 1.0)
    return inv_freq * factor * factor, scaling


ROPE_INIT_FUNCTIONS = {**_ref.ROPE_INIT_FUNCTIONS, "proportional": _proportional}

KILLED_BY = [
    "test_rope.py::test_init_function_matches_float64_formula",
    "test_rope.py::test_init_function_matches_reference",
]
