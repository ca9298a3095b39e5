"""The YaRN init function applies mscale ``0.1 ln(factor) + 1`` below factor 1 too, where it must be 1."""

import math

from layer_conformance.reference import rope as _ref

dynamic_rope_update = _ref.dynamic_rope_update


def _yarn(config, device=None, seq_len=None, layer_type=None):
    inv_freq, scaling = _ref._yarn(config, device, seq_len, layer_type)
    params = _ref._params(config, layer_type)
    original = params.get("original_max_position_embeddings") or config.max_position_embeddings
    factor = params.get("factor") or config.max_position_embeddings / original
    plain = params.get("attention_factor") is None and not (params.get("mscale") and params.get("mscale_all_dim"))
    if plain and factor < 1:
        scaling = 0.1 * math.log(factor) + 1.0
    return inv_freq, scaling


ROPE_INIT_FUNCTIONS = {**_ref.ROPE_INIT_FUNCTIONS, "yarn": _yarn}

KILLED_BY = ["test_rope.py::test_init_function_matches_float64_formula"]
