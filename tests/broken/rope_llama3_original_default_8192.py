"""llama3 ignores the documented default of ``original_max_position_embeddings`` (the config's
``max_position_embeddings``) and takes Llama 3's pretraining length, 8192, when the key is absent."""

import copy

from layer_conformance.reference import rope as _ref

dynamic_rope_update = _ref.dynamic_rope_update


def _llama3(config, device=None, seq_len=None, layer_type=None):
    params = _ref._params(config, layer_type)
    if "original_max_position_embeddings" not in params:
        config = copy.copy(config)
        patched = {**params, "original_max_position_embeddings": 8192}
        config.rope_parameters = patched if layer_type is None else {**config.rope_parameters, layer_type: patched}
    return _ref._llama3(config, device, seq_len, layer_type)


ROPE_INIT_FUNCTIONS = {**_ref.ROPE_INIT_FUNCTIONS, "llama3": _llama3}

KILLED_BY = ["test_rope.py::test_absent_optional_keys_take_their_documented_defaults"]
