"""The YaRN init function returns an attention scaling of 1.0 instead of its mscale / attention factor."""

from layer_conformance.reference import rope as _ref

dynamic_rope_update = _ref.dynamic_rope_update


def _yarn(config, device=None, seq_len=None, layer_type=None):
    inv_freq, _ = _ref._yarn(config, device, seq_len, layer_type)
    return inv_freq, 1.0


ROPE_INIT_FUNCTIONS = {**_ref.ROPE_INIT_FUNCTIONS, "yarn": _yarn}

KILLED_BY = ["test_rope.py::test_init_function_matches_float64_formula"]
