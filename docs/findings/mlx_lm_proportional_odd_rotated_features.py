"""mlx-lm 0.32.2: ProportionalRoPE rotates one pair too many when head_dim * partial_rotary_factor is odd.

initialize_rope passes rotated_dims = int(dims * partial_rotary_factor) and ProportionalRoPE takes the exponents
mx.arange(0, rotated_dims, 2): ceil(rotated_dims / 2) rotated pairs.  transformers' proportional RoPE
(_compute_proportional_rope_parameters) rotates int(partial_rotary_factor * head_dim // 2) pairs: for head_dim 6
and a factor of 0.5 (3 features), mlx-lm rotates 2 pairs, transformers 1.

Expected for head_dim 6, partial_rotary_factor 0.5: the second pair (features 1 and 4) not rotated.
Actual: rotated.

Needs mlx (the CPU build: pip install "mlx[cpu]") and mlx-lm only.  Exit status 1: reproduced.
"""

import sys

import mlx.core as mx
from mlx_lm.models.rope_utils import initialize_rope

rope = initialize_rope(
    6, 10000.0, False, scaling_config={"rope_type": "proportional", "partial_rotary_factor": 0.5},
    max_position_embeddings=16,
)  # fmt: skip
x = mx.zeros((1, 1, 2, 6)).at[..., 1].add(1.0)  # a unit vector on feature 1, positions 0 and 1
out = rope(x)
moved = abs(float(out[0, 0, 1, 1]) - 1.0)
print(f"feature 1 at position 1: {float(out[0, 0, 1, 1]):.4f} (1.0 when its pair is not rotated)")
if moved > 1e-6:
    print("reproduced: a pair past floor(head_dim * partial_rotary_factor / 2) is rotated")
    sys.exit(1)
print("did not reproduce")
