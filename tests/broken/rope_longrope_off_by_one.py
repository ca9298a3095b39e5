"""dynamic_rope_update switches longrope to the long factors at the original maximum itself (>=)."""

import functools

from layer_conformance.reference import rope as _ref

ROPE_INIT_FUNCTIONS = _ref.ROPE_INIT_FUNCTIONS


def dynamic_rope_update(rope_forward):
    @functools.wraps(rope_forward)
    def wrapper(self, x, position_ids, *args, **kwargs):
        if self.rope_type == "longrope":
            original = self.config.rope_parameters["original_max_position_embeddings"]
            if int(position_ids.max()) + 1 >= original:
                inv_freq, _ = ROPE_INIT_FUNCTIONS["longrope"](self.config, x.device, original + 1)
            else:
                inv_freq = self.original_inv_freq
            self.register_buffer("inv_freq", inv_freq, persistent=False)
        return rope_forward(self, x, position_ids, *args, **kwargs)

    return wrapper


KILLED_BY = ["test_rope.py::test_longrope_switches_factors_at_the_original_maximum"]
