"""rotary_embedding always pairs the features GPT-NeoX's way, ``(i, i + n)``, whatever ``interleaved`` says."""

from tests.broken._rotation import ROPE_INIT_FUNCTIONS, dynamic_rope_update, rotation  # noqa: F401


def rotary_embedding(config, query, key, position_ids, interleaved=False):
    return tuple(rotation(config, x, position_ids, interleaved, layout=False) for x in (query, key))


KILLED_BY = ["test_rope.py::test_rotation_matches_the_float64_definition"]
