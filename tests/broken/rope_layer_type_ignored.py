"""dynamic_rope_update reads ``"dynamic" in self.rope_type`` whatever the layer type: for a module giving each
layer type its own RoPE (``rope_type`` a dict by layer type) that looks at the dict's keys, so no layer type's
frequencies ever grow or reset (the bundled reference's own decorator before per-layer RoPE)."""

import functools

from layer_conformance.reference import rope as _ref

ROPE_INIT_FUNCTIONS = _ref.ROPE_INIT_FUNCTIONS


def dynamic_rope_update(rope_forward):
    @functools.wraps(rope_forward)
    def wrapper(self, x, position_ids, *args, **kwargs):
        if "dynamic" in self.rope_type:
            _ref._dynamic_update(self, position_ids, x.device)
        elif self.rope_type == "longrope":
            _ref._longrope_update(self, position_ids, x.device)
        return rope_forward(self, x, position_ids, *args, **kwargs)

    return wrapper


KILLED_BY = ["test_rope.py::test_dynamic_ntk_grows_and_resets_per_layer_type"]
