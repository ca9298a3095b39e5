"""rotary_embedding takes the sequence length from the query's shape instead of the largest position: with a
cache, a decoded token at position 300 of a dynamic-NTK model gets the frequencies of a sequence of one
(the short-sequence frequencies), not those of 301 tokens; longrope keeps its short factors past the original
length."""

from tests.broken._rotation import ROPE_INIT_FUNCTIONS, dynamic_rope_update, rotation  # noqa: F401


def rotary_embedding(config, query, key, position_ids, interleaved=False):
    length = query.shape[2]
    return tuple(rotation(config, x, position_ids, interleaved, length=length) for x in (query, key))


KILLED_BY = ["test_rope.py::test_rotation_matches_the_float64_definition"]
