"""The reference with surface no property exercises: a parameter ``sdpa_mask`` has beyond the contract's, a
RoPE type and an attention backend of its own.  The surface check must list exactly these as uncovered."""

from layer_conformance import reference
from layer_conformance.contract import NAMES
from layer_conformance.reference.registry import Registry

globals().update({name: getattr(reference, name) for name in NAMES})


def sdpa_mask(*args, new_option: bool = False, **kwargs):
    return reference.sdpa_mask(*args, **kwargs)


def _new_type(config, device=None, seq_len=None, layer_type=None):
    return reference.ROPE_INIT_FUNCTIONS["default"](config, device, seq_len, layer_type)


ROPE_INIT_FUNCTIONS = {**reference.ROPE_INIT_FUNCTIONS, "lc_new_type": _new_type}


def _new_backend(*args, **kwargs):
    return reference.sdpa_attention_forward(*args, **kwargs)


class AttentionInterface(Registry):
    _global_mapping = {**reference.AttentionInterface._global_mapping, "lc_new_backend": _new_backend}


#: What the surface check must report uncovered for this implementation.
UNCOVERED = ["AttentionInterface['lc_new_backend']", "ROPE_INIT_FUNCTIONS['lc_new_type']", "sdpa_mask(new_option)"]
