"""torchtune's rotary modules rotate every token by the angle of the next position: their ``forward`` reads
``input_pos + 1``."""

from torchtune.models.llama3_1._position_embeddings import Llama3ScaledRoPE
from torchtune.modules import RotaryPositionalEmbeddings

from tests.seeded import defining

for _cls in defining((RotaryPositionalEmbeddings, Llama3ScaledRoPE), "forward"):

    def _seeded(self, x, *, input_pos=None, _forward=_cls.forward):
        return _forward(self, x, input_pos=None if input_pos is None else input_pos + 1)

    _cls.forward = _seeded
