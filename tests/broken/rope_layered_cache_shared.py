"""dynamic_rope_update keeps one cached length for every layer type: it grows and resets each layer type's
own frequencies, but measures growth against ``max_seq_len_cached`` whichever layer type the forward is for,
so a layer type another one has already grown past never grows (and a reset of one forgets the other)."""

import functools

from layer_conformance.reference import rope as _ref

ROPE_INIT_FUNCTIONS = _ref.ROPE_INIT_FUNCTIONS


def dynamic_rope_update(rope_forward):
    @functools.wraps(rope_forward)
    def wrapper(self, x, position_ids, layer_type=None):
        if layer_type is None:
            return _ref.dynamic_rope_update(rope_forward)(self, x, position_ids)
        prefix = f"{layer_type}_"
        if "dynamic" in self.rope_type[layer_type]:
            seq_len = int(position_ids.max()) + 1
            if seq_len > self.max_seq_len_cached:
                inv_freq, _ = ROPE_INIT_FUNCTIONS["dynamic"](self.config, x.device, seq_len, layer_type=layer_type)
                self.register_buffer(f"{prefix}inv_freq", inv_freq, persistent=False)
                self.max_seq_len_cached = seq_len
            elif seq_len < self.original_max_seq_len < self.max_seq_len_cached:
                original = getattr(self, f"{prefix}original_inv_freq")
                self.register_buffer(f"{prefix}inv_freq", original, persistent=False)
                self.max_seq_len_cached = self.original_max_seq_len
        return rope_forward(self, x, position_ids, layer_type=layer_type)

    return wrapper


KILLED_BY = ["test_rope.py::test_dynamic_ntk_grows_and_resets_per_layer_type"]
