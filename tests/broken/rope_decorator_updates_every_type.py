"""dynamic_rope_update applies the dynamic growth to every RoPE type, not only the dynamic ones."""

import functools

from layer_conformance.reference import rope as _ref

ROPE_INIT_FUNCTIONS = _ref.ROPE_INIT_FUNCTIONS


def dynamic_rope_update(rope_forward):
    @functools.wraps(rope_forward)
    def wrapper(self, x, position_ids, *args, **kwargs):
        if self.rope_type == "longrope":
            _ref._longrope_update(self, position_ids, x.device)
        else:
            _ref._dynamic_update(self, position_ids, x.device)
        return rope_forward(self, x, position_ids, *args, **kwargs)

    return wrapper


KILLED_BY = ["test_rope.py::test_decorator_changes_nothing_for_other_types"]
