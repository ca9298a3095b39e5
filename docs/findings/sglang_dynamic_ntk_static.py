"""SGLang 0.5.23: dynamic NTK RoPE turns every sequence by the frequencies of the longest one.

transformers' dynamic RoPE (_compute_dynamic_ntk_parameters with dynamic_rope_update) keeps the default
frequencies while the sequence is within max_position_embeddings and raises the base with the sequence's length
beyond it.  SGLang's DynamicNTKScalingRotaryEmbedding computes one cos/sin cache, once, with the base raised for
max_position_embeddings * factor positions, and every sequence is rotated with it: a short prompt is turned by the
frequencies of the longest context, not the model's own.

Expected for head 8, max_position_embeddings 16, factor 2, any sequence of at most 16 tokens: position 1's angles
[1, 0.1, 0.01, 0.001] (the default frequencies).  Actual: [1, 0.0693, 0.0048, 0.0003] (base 10000 * 3^(4/3)).

Needs sglang (0.5.23) and torch only.  Exit status 1: reproduced.
"""

import os
import sys

os.environ.setdefault("SGLANG_USE_CPU_ENGINE", "1")  # on a machine without CUDA: SGLang's CPU engine

import torch  # noqa: E402
from sglang.srt.layers.rotary_embedding import get_rope  # noqa: E402

params = {"rope_type": "dynamic", "rope_theta": 10000.0, "factor": 2.0}
rope = get_rope(8, 8, 16, 10000.0, True, params, torch.float32)
cos, sin = rope.cos_sin_cache[1].double().chunk(2)
actual = torch.atan2(sin, cos).tolist()
expected = [1.0, 0.1, 0.01, 0.001]
print(f"expected {expected}, actual {[round(a, 5) for a in actual]}")
if any(abs(a - e) > 1e-5 for a, e in zip(actual, expected, strict=True)):
    print("reproduced: the frequencies of max_position_embeddings * factor for every sequence")
    sys.exit(1)
print("did not reproduce")
