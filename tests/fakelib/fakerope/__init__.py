"""fakerope: a small rotary-embedding library written for the self-tests, as another library would be.

It has what the suite's adapters meet in real libraries: a rotary module with a cache built once for the
model's maximum length, called as a model calls it (``module(positions, query, key)``), one layout (the
half layout, GPT-NeoX's) and two RoPE types (default, and ``scaling_type="linear"`` with ``scaling_factor``).

- **A rule of its own, documented**: positions at or past ``max_position`` take the cache's last row
  ("positions past the context the model was built for are clamped to it").
- **A bug in 1.0**, fixed in 1.1: the linear module's fast path for one sequence within the cache hands the
  ``[1, seq]`` positions to ``index_select``, which takes a vector: ``IndexError``.

``FAKEROPE_VERSION`` (read on import) makes it 1.1.
"""

from __future__ import annotations

import os

import torch

__version__ = os.environ.get("FAKEROPE_VERSION", "1.0")


class RotaryEmbedding(torch.nn.Module):
    """Rotates every feature of each head, in pairs ``(i, i + head_size / 2)``.

    Positions past the context the model was built for (``max_position``) are clamped to it."""

    def __init__(
        self, head_size: int, max_position: int, base: float = 10000.0, scaling_type: str | None = None,
        scaling_factor: float = 1.0,
    ):  # fmt: skip
        super().__init__()
        self.head_size, self.max_position, self.scaling_type = head_size, max_position, scaling_type
        scaling_factor = scaling_factor if scaling_type == "linear" else 1.0
        inv_freq = 1.0 / base ** (torch.arange(0, head_size, 2, dtype=torch.float32) / head_size)
        angles = torch.outer(torch.arange(max_position, dtype=torch.float32) / scaling_factor, inv_freq)
        self.register_buffer("cos_sin_cache", torch.cat((angles.cos(), angles.sin()), dim=-1), persistent=False)

    def _rotate(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        half = self.head_size // 2
        first, second = x[..., :half].float(), x[..., half:].float()
        return torch.cat((first * cos - second * sin, second * cos + first * sin), dim=-1).to(x.dtype)

    def forward(self, positions: torch.Tensor, query: torch.Tensor, key: torch.Tensor):
        """``query`` [batch, heads, seq, head_size], ``key`` [batch, kv_heads, seq, head_size], ``positions``
        [batch, seq]: the rotated query and key."""
        if self.scaling_type == "linear" and positions.shape[0] == 1 and int(positions.max()) < self.max_position:
            index = positions if __version__ == "1.0" else positions[0]  # the fast path
            rows = self.cos_sin_cache.index_select(0, index)[None]
        else:
            rows = self.cos_sin_cache[positions.clamp(max=self.max_position - 1)]
        cos, sin = rows[:, None].chunk(2, dim=-1)
        return self._rotate(query, cos, sin), self._rotate(key, cos, sin)
