"""fakerope's rotary module turns backwards: ``_rotate`` gets the negated sines (the sign slip of a
hand-written rotate-half)."""

import fakerope

_rotate = fakerope.RotaryEmbedding._rotate


def _seeded(self, x, cos, sin):
    return _rotate(self, x, cos, -sin)


fakerope.RotaryEmbedding._rotate = _seeded
