"""rotary_embedding turns by minus the angle (a sign slip in rotate_half: ``cat((x2, -x1))``): norms and relative
positions are kept, but it is another rotation than the one the model was trained with."""

from tests.broken._rotation import ROPE_INIT_FUNCTIONS, dynamic_rope_update, rotation  # noqa: F401


def rotary_embedding(config, query, key, position_ids, interleaved=False):
    return tuple(rotation(config, x, position_ids, interleaved, sign=-1.0) for x in (query, key))


KILLED_BY = ["test_rope.py::test_rotation_matches_the_float64_definition"]
