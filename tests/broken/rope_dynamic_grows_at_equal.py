"""dynamic_rope_update grows when the sequence length reaches the cached length (>=), not only beyond it."""

import functools

from layer_conformance.reference import rope as _ref

ROPE_INIT_FUNCTIONS = _ref.ROPE_INIT_FUNCTIONS


def dynamic_rope_update(rope_forward):
    @functools.wraps(rope_forward)
    def wrapper(self, x, position_ids, *args, **kwargs):
        if self.rope_type == "dynamic":
            seq_len = int(position_ids.max()) + 1
            if seq_len >= self.max_seq_len_cached:
                inv_freq, self.attention_scaling = ROPE_INIT_FUNCTIONS["dynamic"](self.config, x.device, seq_len)
                self.register_buffer("inv_freq", inv_freq, persistent=False)
                self.max_seq_len_cached = seq_len
            elif seq_len < self.original_max_seq_len and self.max_seq_len_cached > self.original_max_seq_len:
                self.register_buffer("inv_freq", self.original_inv_freq, persistent=False)
                self.max_seq_len_cached = self.original_max_seq_len
        return rope_forward(self, x, position_ids, *args, **kwargs)

    return wrapper


KILLED_BY = ["test_rope.py::test_dynamic_ntk_grows_and_resets"]
