"""The llama3 init function returns the default frequencies: neither the low band divided by the factor nor
the smooth blend (transformers 4.43.x, #32330: llama3 RoPE equal to the default)."""

from layer_conformance.reference import rope as _ref

dynamic_rope_update = _ref.dynamic_rope_update

ROPE_INIT_FUNCTIONS = {**_ref.ROPE_INIT_FUNCTIONS, "llama3": _ref.ROPE_INIT_FUNCTIONS["default"]}

KILLED_BY = [
    "test_rope.py::test_init_function_matches_float64_formula",
    "test_rope.py::test_init_function_matches_reference",
]
