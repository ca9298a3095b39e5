"""The llama3 init function computes its band edges ``original / freq_factor`` with floor division."""

import math

import torch

from layer_conformance.reference import rope as _ref

dynamic_rope_update = _ref.dynamic_rope_update


def _llama3(config, device=None, seq_len=None, layer_type=None):
    params = _ref._params(config, layer_type)
    inv_freq, _ = _ref._default(config, device, layer_type=layer_type)
    factor, low_ff, high_ff = params["factor"], params["low_freq_factor"], params["high_freq_factor"]
    original = params["original_max_position_embeddings"]
    low_wavelen, high_wavelen = original // low_ff, original // high_ff  # the bug: edges rounded down
    wavelen = 2 * math.pi / inv_freq
    scaled = torch.where(wavelen > low_wavelen, inv_freq / factor, inv_freq)
    smooth = (original / wavelen - low_ff) / (high_ff - low_ff)
    blended = (1 - smooth) * scaled / factor + smooth * scaled
    medium = (wavelen >= high_wavelen) & (wavelen <= low_wavelen)
    return torch.where(medium, blended, scaled), 1.0


ROPE_INIT_FUNCTIONS = {**_ref.ROPE_INIT_FUNCTIONS, "llama3": _llama3}

KILLED_BY = ["test_rope.py::test_init_function_matches_float64_formula"]
