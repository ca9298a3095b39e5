"""rotary_embedding multiplies the features past the rotated ones too (as if cos/sin covered the whole head): a
partial rotary model's unrotated features are scaled instead of passed through."""

from tests.broken._rotation import ROPE_INIT_FUNCTIONS, dynamic_rope_update, rotation  # noqa: F401


def rotary_embedding(config, query, key, position_ids, interleaved=False):
    return tuple(rotation(config, x, position_ids, interleaved, scale_passed=True) for x in (query, key))


KILLED_BY = ["test_rope.py::test_rotation_matches_the_float64_definition"]
