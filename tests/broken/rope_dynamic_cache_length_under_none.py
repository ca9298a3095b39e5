"""dynamic_rope_update, called without a layer type, writes the grown cache length to an attribute named
``None_max_seq_len_cached`` (``f"{layer_type}_max_seq_len_cached"``) and reads ``max_seq_len_cached``: the
cached length never changes, so every long forward recomputes the frequencies and a short one never resets
them (transformers 5.0-5.12; fixed by #46624 in 5.13)."""

import functools

from layer_conformance.reference import rope as _ref

ROPE_INIT_FUNCTIONS = _ref.ROPE_INIT_FUNCTIONS


def _dynamic_update(self, position_ids, device, layer_type=None):
    seq_len = int(position_ids.max()) + 1
    max_seq_len_cached = self.max_seq_len_cached
    if seq_len > max_seq_len_cached:  # growth
        inv_freq, self.attention_scaling = ROPE_INIT_FUNCTIONS[self.rope_type](self.config, device, seq_len)
        self.register_buffer("inv_freq", inv_freq, persistent=False)
        setattr(self, f"{layer_type}_max_seq_len_cached", seq_len)
    if seq_len < self.original_max_seq_len and max_seq_len_cached > self.original_max_seq_len:  # reset
        self.register_buffer("inv_freq", self.original_inv_freq.to(device), persistent=False)
        setattr(self, f"{layer_type}_max_seq_len_cached", self.original_max_seq_len)


def dynamic_rope_update(rope_forward):
    @functools.wraps(rope_forward)
    def wrapper(self, x, position_ids, *args, **kwargs):
        if self.rope_type == "dynamic":
            _dynamic_update(self, position_ids, x.device)
        elif self.rope_type == "longrope":
            _ref._longrope_update(self, position_ids, x.device)
        return rope_forward(self, x, position_ids, *args, **kwargs)

    return wrapper


KILLED_BY = ["test_rope.py::test_dynamic_ntk_grows_and_resets"]
