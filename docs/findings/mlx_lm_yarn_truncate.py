"""mlx-lm 0.32.2: YarnRoPE ignores truncate=False -- the setting of gpt-oss, whose mlx-lm model builds its RoPE here.

transformers' YaRN (and the gpt-oss reference) keeps the correction range's fractional ends when
rope_scaling["truncate"] is False; YarnRoPE always floors and ceils them (yarn_find_correction_range), and
initialize_rope never reads "truncate".  mlx_lm/models/gpt_oss.py builds its RoPE with
initialize_rope(..., scaling_config=config.rope_scaling), and gpt-oss's config is
{"rope_type": "yarn", "factor": 32.0, "beta_fast": 32.0, "beta_slow": 1.0, "truncate": false,
 "original_max_position_embeddings": 4096}, head_dim 64, rope_theta 150000: the frequencies of the ramp's edge
pairs come out wrong.

Expected: the YaRN frequencies with the unrounded ramp (computed below in plain Python, as transformers does).
Actual: those of the rounded ramp.

Needs mlx (the CPU build: pip install "mlx[cpu]") and mlx-lm only.  Exit status 1: reproduced.
"""

import math
import sys

from mlx_lm.models.rope_utils import initialize_rope

dims, base, factor, original, fast, slow = 64, 150000.0, 32.0, 4096, 32.0, 1.0
scaling = {"rope_type": "yarn", "factor": factor, "beta_fast": fast, "beta_slow": slow, "truncate": False,
           "original_max_position_embeddings": original}  # fmt: skip
rope = initialize_rope(dims, base, False, scaling_config=scaling, max_position_embeddings=131072)
actual = [1.0 / float(f) for f in rope._freqs]  # mlx keeps periods: frequency = 1 / period


def correction_dim(rotations):
    return dims * math.log(original / (rotations * 2 * math.pi)) / (2 * math.log(base))


low, high = max(correction_dim(fast), 0), min(correction_dim(slow), dims - 1)  # truncate=False: not rounded
expected = []
for i in range(dims // 2):
    f = 1.0 / base ** (2 * i / dims)
    ramp = min(max((i - low) / (high - low), 0.0), 1.0)
    expected.append(f / factor * ramp + f * (1 - ramp))
worst = max(abs(a - e) / e for a, e in zip(actual, expected, strict=True))
print(f"largest relative frequency difference: {worst:.3g}")
if worst > 1e-5:
    print("reproduced: truncate=False is ignored")
    sys.exit(1)
print("did not reproduce")
