"""dynamic_rope_update grows the dynamic frequencies but never resets them for short sequences."""

import functools

from layer_conformance.reference import rope as _ref

ROPE_INIT_FUNCTIONS = _ref.ROPE_INIT_FUNCTIONS


def dynamic_rope_update(rope_forward):
    @functools.wraps(rope_forward)
    def wrapper(self, x, position_ids, *args, **kwargs):
        if self.rope_type == "dynamic":
            seq_len = int(position_ids.max()) + 1
            if seq_len > self.max_seq_len_cached:
                inv_freq, self.attention_scaling = ROPE_INIT_FUNCTIONS["dynamic"](self.config, x.device, seq_len)
                self.register_buffer("inv_freq", inv_freq, persistent=False)
                self.max_seq_len_cached = seq_len
        elif self.rope_type == "longrope":
            _ref._longrope_update(self, position_ids, x.device)
        return rope_forward(self, x, position_ids, *args, **kwargs)

    return wrapper


KILLED_BY = ["test_rope.py::test_dynamic_ntk_grows_and_resets"]
