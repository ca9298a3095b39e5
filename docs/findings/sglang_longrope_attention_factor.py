"""SGLang 0.5.23: longrope ignores rope_parameters["attention_factor"].

transformers' longrope (_compute_longrope_parameters) multiplies cos and sin by rope_parameters["attention_factor"]
when a config sets it (and only derives it from the lengths when it is absent); SGLang's get_rope passes only the
keys short_mscale / long_mscale to Phi3LongRoPEScaledRotaryEmbedding, which then derives the scaling from the
lengths: a config's attention_factor is dropped, and every logit is scaled by the wrong factor squared.

Expected for attention_factor 0.8: cos_sin_cache row 0 (cos 0 times the scaling) = 0.8.
Actual: 1.0 (max 16 <= original 32: the scaling derived from the lengths).

Needs sglang (0.5.23) and torch only.  Exit status 1: reproduced.
"""

import os
import sys

os.environ.setdefault("SGLANG_USE_CPU_ENGINE", "1")  # on a machine without CUDA: SGLang's CPU engine

import torch  # noqa: E402
from sglang.srt.layers.rotary_embedding import get_rope  # noqa: E402

params = {
    "rope_type": "longrope",
    "rope_theta": 10000.0,
    "attention_factor": 0.8,
    "short_factor": [1.0, 1.0],
    "long_factor": [2.0, 2.0],
    "original_max_position_embeddings": 32,
}
rope = get_rope(4, 4, 16, 10000.0, True, params, torch.float32)
actual = float(rope.short_cos_sin_cache[0, 0])
print(f"expected 0.8, actual {actual}")
if abs(actual - 0.8) > 1e-6:
    print("reproduced: attention_factor is ignored")
    sys.exit(1)
print("did not reproduce")
