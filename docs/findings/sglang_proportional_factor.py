"""SGLang 0.5.23: proportional RoPE (Gemma 4) ignores rope_parameters["factor"].

transformers' _compute_proportional_rope_parameters divides every frequency by rope_parameters["factor"];
SGLang's get_rope builds Gemma4RotaryEmbedding(head_size, rotary_dim, max_position, base, is_neox_style, dtype)
for the 'proportional' type, with no factor at all (and sglang/srt/models/gemma4_causal.py passes
rope_scaling={"rope_type": ...} only): a config's factor is dropped.

Expected for head 8, partial_rotary_factor 0.75, factor 2: position 1's angles [0.5, 0.05, 0.005] (then 0 for the
unrotated pair).  Actual: [1.0, 0.1, 0.01].

Needs sglang (0.5.23) and torch only.  Exit status 1: reproduced.
"""

import os
import sys

os.environ.setdefault("SGLANG_USE_CPU_ENGINE", "1")  # on a machine without CUDA: SGLang's CPU engine

import torch  # noqa: E402
from sglang.srt.layers.rotary_embedding import get_rope  # noqa: E402

params = {"rope_type": "proportional", "rope_theta": 10000.0, "factor": 2.0}
rope = get_rope(8, 8, 16, 10000.0, True, params, torch.float32, partial_rotary_factor=0.75)
cos, sin = rope.cos_sin_cache[1].double().chunk(2)
actual = torch.atan2(sin, cos)[:3].tolist()
expected = [0.5, 0.05, 0.005]
print(f"expected {expected}, actual {[round(a, 5) for a in actual]}")
if any(abs(a - e) > 1e-5 for a, e in zip(actual, expected, strict=True)):
    print("reproduced: factor is ignored")
    sys.exit(1)
print("did not reproduce")
