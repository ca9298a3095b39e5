"""dynamic_rope_update hands forward the input cast to float32, so cos/sin lose the input's dtype."""

import functools

from layer_conformance.reference import rope as _ref

ROPE_INIT_FUNCTIONS = _ref.ROPE_INIT_FUNCTIONS


def dynamic_rope_update(rope_forward):
    inner = _ref.dynamic_rope_update(rope_forward)

    @functools.wraps(rope_forward)
    def wrapper(self, x, position_ids, *args, **kwargs):
        return inner(self, x.float(), position_ids, *args, **kwargs)

    return wrapper


KILLED_BY = ["test_rope.py::test_cos_sin_follow_the_definition"]
