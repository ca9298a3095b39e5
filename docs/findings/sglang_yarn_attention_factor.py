"""SGLang 0.5.23: YaRN ignores rope_parameters["attention_factor"].

transformers' YaRN (_compute_yarn_parameters) multiplies cos and sin by rope_parameters["attention_factor"] when a
config sets it, and derives the scaling from the factor (0.1 * ln(factor) + 1) only when it is absent.  SGLang's
get_rope passes YaRNScalingRotaryEmbedding the keys extrapolation_factor, attn_factor, beta_fast, beta_slow, mscale
and mscale_all_dim only: transformers' attention_factor is not among them, so it is dropped and the scaling derived
from the factor is used -- every logit is scaled by the wrong factor squared.  SGLang's models pass the whole
rope_parameters dict as rope_scaling (sglang/srt/models/llama.py), so any model config with attention_factor meets it.

Expected for factor 4, attention_factor 1.3: cos_sin_cache row 0 (cos 0 times the scaling) = 1.3.
Actual: 1.1386 (0.1 * ln 4 + 1).

Needs sglang (0.5.23) and torch only.  Exit status 1: reproduced.
"""

import os
import sys

os.environ.setdefault("SGLANG_USE_CPU_ENGINE", "1")  # on a machine without CUDA: SGLang's CPU engine

import torch  # noqa: E402
from sglang.srt.layers.rotary_embedding import get_rope  # noqa: E402

params = {
    "rope_type": "yarn",
    "rope_theta": 10000.0,
    "factor": 4.0,
    "attention_factor": 1.3,
    "original_max_position_embeddings": 8,
}
rope = get_rope(8, 8, 32, 10000.0, True, params, torch.float32)
actual = float(rope.cos_sin_cache[0, 0])
print(f"expected 1.3, actual {actual:.4f}")
if abs(actual - 1.3) > 1e-4:
    print("reproduced: attention_factor is ignored")
    sys.exit(1)
print("did not reproduce")
