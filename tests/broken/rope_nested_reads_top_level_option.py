"""The YaRN init function reads `truncate` from the top level of rope_parameters, not the layer type's dict."""

from types import SimpleNamespace

from layer_conformance.reference import rope as _ref

dynamic_rope_update = _ref.dynamic_rope_update


def _yarn(config, device=None, seq_len=None, layer_type=None):
    if layer_type is None:
        return _ref._yarn(config, device, seq_len)
    params = dict(config.rope_parameters[layer_type])
    params["truncate"] = config.rope_parameters.get("truncate", True)
    flat = SimpleNamespace(**{**vars(config), "rope_parameters": params})
    return _ref._yarn(flat, device, seq_len)


ROPE_INIT_FUNCTIONS = {**_ref.ROPE_INIT_FUNCTIONS, "yarn": _yarn}

KILLED_BY = ["test_rope.py::test_parameters_nested_by_layer_type_equal_flat"]
