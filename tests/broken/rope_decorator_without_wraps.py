"""dynamic_rope_update returns a plain wrapper: the forward's name, docstring and signature are lost."""

from layer_conformance.reference import rope as _ref

ROPE_INIT_FUNCTIONS = _ref.ROPE_INIT_FUNCTIONS


def dynamic_rope_update(rope_forward):
    inner = _ref.dynamic_rope_update(rope_forward)

    def wrapper(*args, **kwargs):
        return inner(*args, **kwargs)

    return wrapper


KILLED_BY = ["test_rope.py::test_decorated_forward_keeps_its_name_and_doc"]
