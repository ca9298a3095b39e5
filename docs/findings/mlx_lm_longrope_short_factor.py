"""mlx-lm 0.32.2: SuScaledRoPE (longrope) never uses short_factor.

Its docstring: "short_factor (float or list[float], optional): List of scaling factors for sequences of length
lesser than original_max_position_embeddings"; __init__ builds its frequencies from long_factor only
(self._freqs = long_factor * freqs) and __call__ never looks at the length.  A sequence shorter than the original
context is rotated with the long factors.  (transformers' longrope: the short factors up to the original length.)

Expected for a 4-token sequence, original_max_position_embeddings 8, short_factor [1, 1], long_factor [4, 4]: the
first pair of position 1 turned by 1 / 1 = 1 rad (cos 0.5403).
Actual: by 1 / 4 = 0.25 rad (cos 0.9689).

Needs mlx (the CPU build: pip install "mlx[cpu]") and mlx-lm only.  Exit status 1: reproduced.
"""

import math
import sys

import mlx.core as mx
from mlx_lm.models.rope_utils import initialize_rope

rope = initialize_rope(
    4,
    10000.0,
    False,
    scaling_config={"rope_type": "longrope", "short_factor": [1.0, 1.0], "long_factor": [4.0, 4.0],
                    "original_max_position_embeddings": 8},
    max_position_embeddings=16,
)  # fmt: skip
x = mx.zeros((1, 1, 4, 4)).at[..., 0].add(1.0)  # a unit vector on the first feature at every position
out = rope(x)
actual = float(out[0, 0, 1, 0]) / float(out[0, 0, 0, 0])  # cos of position 1's angle (the scale divides out)
print(f"expected cos(1) = {math.cos(1.0):.4f}, actual {actual:.4f}")
if abs(actual - math.cos(1.0)) > 1e-4:
    print("reproduced: the long factors turn a short sequence")
    sys.exit(1)
print("did not reproduce")
