"""Megatron-Core 0.16.1: YarnRotaryEmbedding ignores rotary_percent.

RotaryEmbedding rotates int(kv_channels * rotary_percent) features and passes the others through; its subclass
YarnRotaryEmbedding sets self.dim = kv_channels and builds YaRN's frequencies over the whole head, so with
rotary_percent 0.5 its angles cover every feature: apply_rotary_pos_emb then rotates the features that should
pass through, with frequencies whose exponents run over the whole head instead of the rotated part.
(transformers' YaRN: int(head_dim * partial_rotary_factor) rotated features.)

Expected for kv_channels 8, rotary_percent 0.5: angles over 4 features (2 frequencies), as RotaryEmbedding's.
Actual: angles over 8 features (4 frequencies).

Needs megatron-core 0.16.1 and torch only.  Megatron builds its angles on the GPU; on a machine without CUDA,
torch.cuda.current_device is answered with "cpu" below (nothing else changes).  Exit status 1: reproduced.
"""

import sys

import torch

if not torch.cuda.is_available():
    torch.cuda.current_device = lambda: "cpu"

from megatron.core.models.common.embeddings.rotary_pos_embedding import RotaryEmbedding  # noqa: E402
from megatron.core.models.common.embeddings.yarn_rotary_pos_embedding import YarnRotaryEmbedding  # noqa: E402

plain = RotaryEmbedding(kv_channels=8, rotary_percent=0.5, use_cpu_initialization=True).get_emb(2)
yarn, _ = YarnRotaryEmbedding(
    kv_channels=8,
    rotary_percent=0.5,
    use_cpu_initialization=True,
    scaling_factor=4.0,
    original_max_position_embeddings=16,
).get_emb(2)
print(f"RotaryEmbedding angles cover {plain.shape[-1]} features, YarnRotaryEmbedding's {yarn.shape[-1]}")
if yarn.shape[-1] != plain.shape[-1]:
    print("reproduced: YarnRotaryEmbedding ignores rotary_percent")
    sys.exit(1)
print("did not reproduce")
