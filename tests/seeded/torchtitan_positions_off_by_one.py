"""torchtitan's rotary modules rotate every token by the angle of the next position: their ``forward`` reads
``positions + 1``."""

from torchtitan.models.common.rope import ComplexRoPE, CosSinRoPE

from tests.seeded import defining

for _cls in defining((ComplexRoPE, CosSinRoPE), "forward"):

    def _seeded(self, query, key, positions=None, _forward=_cls.forward):
        return _forward(self, query, key, None if positions is None else positions + 1)

    _cls.forward = _seeded
