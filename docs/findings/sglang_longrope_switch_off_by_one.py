"""SGLang 0.5.23: longrope keeps the short factors for a sequence one token longer than the original context.

transformers switches longrope to its long factors when the sequence is longer than
original_max_position_embeddings (seq_len = max(position_ids) + 1 > original).  SGLang's
Phi3LongRoPEScaledRotaryEmbedding.forward switches when a position is greater than the original length
(torch.any(positions > k)): a sequence of exactly original + 1 tokens (largest position = original) is
turned by the short factors.

Expected for original 8, short [1, 1], long [4, 4], head 4, a 9-token sequence (positions 0-8): position 1's
first pair turned by 1 / 4 = 0.25 rad (the long factors).  Actual: by 1 rad (the short factors).

Needs sglang (0.5.23) and torch only.  Exit status 1: reproduced.
"""

import os
import sys

os.environ.setdefault("SGLANG_USE_CPU_ENGINE", "1")  # on a machine without CUDA: SGLang's CPU engine

import math  # noqa: E402

import torch  # noqa: E402
from sglang.srt.layers.rotary_embedding import get_rope  # noqa: E402

params = {
    "rope_type": "longrope",
    "rope_theta": 10000.0,
    "short_factor": [1.0, 1.0],
    "long_factor": [4.0, 4.0],
    "original_max_position_embeddings": 8,
}
rope = get_rope(4, 4, 16, 10000.0, True, params, torch.float32)
positions = torch.arange(9)
query = torch.zeros(9, 4)
query[:, 0] = 1.0  # the first pair's unit vector at every position
rotated, _ = rope(positions, query, query.clone())
angle = math.atan2(float(rotated[1, 2]), float(rotated[1, 0]))
print(f"expected 0.25 rad, actual {angle:.4f} rad")
if abs(angle - 0.25) > 1e-4:
    print("reproduced: a sequence of original + 1 tokens keeps the short factors")
    sys.exit(1)
print("did not reproduce")
