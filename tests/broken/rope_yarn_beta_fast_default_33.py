"""The YaRN init function defaults beta_fast to 33 instead of 32 when the config leaves it out."""

import copy

from layer_conformance.reference import rope as _ref

dynamic_rope_update = _ref.dynamic_rope_update


def _yarn(config, device=None, seq_len=None, layer_type=None):
    params = _ref._params(config, layer_type)
    if params.get("beta_fast") is None:
        config = copy.copy(config)
        patched = {**params, "beta_fast": 33}
        config.rope_parameters = patched if layer_type is None else {**config.rope_parameters, layer_type: patched}
    return _ref._yarn(config, device, seq_len, layer_type)


ROPE_INIT_FUNCTIONS = {**_ref.ROPE_INIT_FUNCTIONS, "yarn": _yarn}

KILLED_BY = ["test_rope.py::test_init_function_matches_float64_formula"]
