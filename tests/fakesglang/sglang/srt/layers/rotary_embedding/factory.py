"""``get_rope`` as SGLang's models call it: a module per configuration, memoised in ``_ROPE_DICT``."""

from __future__ import annotations

import os

import torch
from torch import nn

_ROPE_DICT: dict = {}


class RotaryEmbedding(nn.Module):
    """cos_sin_cache: one row per position, the cosines then the sines of ``rotary_dim // 2`` frequencies."""

    def __init__(self, head_size, rotary_dim, max_position, base, is_neox_style, dtype, factor=1.0):
        super().__init__()
        self.head_size, self.rotary_dim, self.is_neox_style = head_size, rotary_dim, is_neox_style
        inv_freq = 1.0 / base ** (torch.arange(0, rotary_dim, 2, dtype=torch.float) / rotary_dim)
        t = torch.arange(int(max_position * factor), dtype=torch.float) / factor
        freqs = torch.outer(t, inv_freq)
        self.register_buffer("cos_sin_cache", torch.cat((freqs.cos(), freqs.sin()), dim=-1).to(dtype), persistent=False)

    def forward(self, positions, query, key):
        cos, sin = self.cos_sin_cache.index_select(0, positions.flatten()).chunk(2, dim=-1)
        return self._rotate(query, cos, sin), self._rotate(key, cos, sin)

    def _rotate(self, x, cos, sin):
        shape = x.shape
        x = x.view(x.shape[0], -1, self.head_size)
        rot, rest = x[..., : self.rotary_dim], x[..., self.rotary_dim :]
        cos, sin = cos[:, None].to(x.dtype), sin[:, None].to(x.dtype)
        if self.is_neox_style:
            first, second = rot.chunk(2, dim=-1)
        else:
            first, second = rot[..., 0::2], rot[..., 1::2]
        a, b = first * cos - second * sin, second * cos + first * sin
        rot = torch.cat((a, b), dim=-1) if self.is_neox_style else torch.stack((a, b), dim=-1).flatten(-2)
        return torch.cat((rot, rest), dim=-1).reshape(shape)


def get_rope(
    head_size,
    rotary_dim,
    max_position,
    base,
    is_neox_style=True,
    rope_scaling=None,
    dtype=None,
    partial_rotary_factor=1.0,
):
    if os.environ.get("SGLANG_USE_CPU_ENGINE") != "1" and not torch.cuda.is_available():
        # as SGLang does without its CPU engine selected on a machine without CUDA: it reaches for another engine's ops
        raise ModuleNotFoundError("No module named 'vllm'")
    dtype = dtype or torch.get_default_dtype()
    if partial_rotary_factor < 1.0:
        rotary_dim = int(rotary_dim * partial_rotary_factor)
    scaling = tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in (rope_scaling or {}).items())
    key = (head_size, rotary_dim, max_position, base, is_neox_style, scaling, dtype)
    if key in _ROPE_DICT:
        return _ROPE_DICT[key]
    kind = (rope_scaling or {}).get("rope_type", "default")
    if kind == "default":
        module = RotaryEmbedding(head_size, rotary_dim, max_position, base, is_neox_style, dtype)
    elif kind == "linear":
        factor = rope_scaling.get("factor", 1.0)
        module = RotaryEmbedding(head_size, rotary_dim, max_position, base, is_neox_style, dtype, factor)
    else:
        raise ValueError(f"Unknown RoPE scaling type {kind}")
    _ROPE_DICT[key] = module
    return module
