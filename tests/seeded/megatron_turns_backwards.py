"""Megatron-Core's rotary embeddings turn backwards: ``get_emb`` returns the negated angles (the sign slip of a
hand-written rotate-half)."""

from megatron.core.models.common.embeddings.rotary_pos_embedding import RotaryEmbedding
from megatron.core.models.common.embeddings.yarn_rotary_pos_embedding import YarnRotaryEmbedding

from tests.seeded import defining

for _cls in defining((RotaryEmbedding, YarnRotaryEmbedding), "get_emb"):

    def _seeded(self, *args, _get_emb=_cls.get_emb, **kwargs):
        emb = _get_emb(self, *args, **kwargs)
        return (-emb[0], *emb[1:]) if isinstance(emb, tuple) else -emb

    _cls.get_emb = _seeded
