"""mlx-lm 0.32.2: YarnRoPE ignores rope_scaling["attention_factor"] (upstream: ml-explore/mlx-lm#1507).

transformers multiplies cos and sin by a YaRN config's attention_factor when it is set (and derives the scaling
from the factor and mscale only when it is absent); initialize_rope passes YarnRoPE only original_max_position_embeddings,
beta_fast, beta_slow, mscale and mscale_all_dim, so attention_factor is dropped and the rotation is scaled by
0.1 * ln(factor) + 1 instead.

Expected for factor 4, attention_factor 1.5: position 0 (no rotation) multiplied by 1.5.
Actual: by 0.1 * ln(4) + 1 = 1.1386.

Needs mlx (the CPU build: pip install "mlx[cpu]") and mlx-lm only.  Exit status 1: reproduced.
"""

import sys

import mlx.core as mx
from mlx_lm.models.rope_utils import initialize_rope

scaling = {"rope_type": "yarn", "factor": 4.0, "attention_factor": 1.5, "original_max_position_embeddings": 16}
rope = initialize_rope(8, 10000.0, False, scaling_config=scaling, max_position_embeddings=64)
actual = float(rope(mx.ones((1, 1, 1, 8)))[0, 0, 0, 0])
print(f"expected 1.5, actual {actual:.4f}")
if abs(actual - 1.5) > 1e-4:
    print("reproduced: attention_factor is ignored")
    sys.exit(1)
print("did not reproduce")
