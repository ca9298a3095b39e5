"""mlx-lm's rotary modules rotate every token by the angle of the next position: the modules
``initialize_rope`` returns are called with ``offset + 1``."""

from mlx_lm.models import rope_utils

_initialize_rope = rope_utils.initialize_rope


class _OffByOne:
    def __init__(self, rope):
        self.rope = rope

    def __call__(self, x, offset=0):
        return self.rope(x, offset=offset + 1)


def _seeded_initialize_rope(*args, **kwargs):
    return _OffByOne(_initialize_rope(*args, **kwargs))


rope_utils.initialize_rope = _seeded_initialize_rope
