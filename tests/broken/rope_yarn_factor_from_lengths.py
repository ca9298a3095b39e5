"""The YaRN init function replaces ``factor`` by ``max_position_embeddings / original_max_position_embeddings``
whenever the original length is given (transformers 4.53-4.55, issue #38224; fixed in 4.56: the ratio only
stands in for an absent factor)."""

import types

from layer_conformance.reference import rope as _ref

dynamic_rope_update = _ref.dynamic_rope_update


def _yarn(config, device=None, seq_len=None, layer_type=None):
    params = _ref._params(config, layer_type)
    if "original_max_position_embeddings" in params:
        params = {**params, "factor": config.max_position_embeddings / params["original_max_position_embeddings"]}
        config = types.SimpleNamespace(**{**vars(config), "rope_parameters": _nest(config, layer_type, params)})
    return _ref._yarn(config, device, seq_len, layer_type)


def _nest(config, layer_type, params):
    if layer_type is None:
        return params
    return {**config.rope_parameters, layer_type: params}


ROPE_INIT_FUNCTIONS = {**_ref.ROPE_INIT_FUNCTIONS, "yarn": _yarn}

KILLED_BY = [
    "test_rope.py::test_init_function_matches_float64_formula",
    "test_rope.py::test_init_function_matches_reference",
]
