"""Rotary position embedding: the init functions of each RoPE type, ``dynamic_rope_update`` and the rotation.

An init function maps ``(config, device=None, seq_len=None)`` to ``(inv_freq,
attention_scaling)``: the inverse frequencies of the rotary dims (``dim =
int(head_dim * partial_rotary_factor)``, ``dim // 2`` frequencies) in float32,
and the factor the cos/sin are multiplied by.  ``config`` exposes
``rope_parameters`` (a dict with ``rope_type``, ``rope_theta`` and the type's
parameters), ``max_position_embeddings``, and ``head_dim`` or ``hidden_size`` /
``num_attention_heads``.  When a model gives each layer type its own RoPE,
``rope_parameters`` maps layer types to such dicts and the init functions take
``layer_type=`` to pick one: every parameter comes from that dict.

``rotary_embedding`` applies the rotation to a query and a key at their positions,
in the half (GPT-NeoX) or interleaved (GPT-J) layout, as a model built from the
config does in one forward.

``dynamic_rope_update`` decorates a rotary module's ``forward(x, position_ids)``:
for ``dynamic`` it grows the frequencies when a longer sequence arrives and
resets them when a short one follows; for ``longrope`` it switches between the
short and long factors; other types are left alone.

Optional keys of ``rope_parameters`` take their documented defaults when they
are absent (the config is read, never changed): ``partial_rotary_factor`` 1.0;
``original_max_position_embeddings`` (yarn, longrope, llama3) the config's
``max_position_embeddings``; yarn's ``beta_fast`` 32, ``beta_slow`` 1,
``truncate`` True, ``attention_factor`` from ``factor`` (and ``mscale`` /
``mscale_all_dim`` when both are given); longrope's ``factor`` the ratio of the
maximum to the original length and its ``attention_factor`` from that factor;
proportional's ``factor`` 1.0.

``proportional`` (partial RoPE for models whose rotated and unrotated features
share one head): the first ``floor(partial_rotary_factor * head_dim / 2)``
frequencies are ``1 / theta ** (2i / head_dim)`` -- exponents over the whole
head, not over the rotated part -- divided by ``factor``; the remaining ones,
up to ``head_dim // 2``, are 0 (those features are not rotated).  Its
``head_dim_key`` names the config attribute the head dim is read from.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import torch

__all__ = ["ROPE_INIT_FUNCTIONS", "dynamic_rope_update", "rotary_embedding"]


def _params(config: Any, layer_type: str | None) -> dict[str, Any]:
    """The RoPE parameters: the flat dict, or the one of ``layer_type`` when they are nested by layer type."""
    return config.rope_parameters if layer_type is None else config.rope_parameters[layer_type]


def _head_dim(config: Any, key: str = "head_dim") -> int:
    """The config's head dim (attribute ``key``), or ``hidden_size // num_attention_heads`` without one."""
    return getattr(config, key, None) or config.hidden_size // config.num_attention_heads


def _rotary_dim(config: Any, params: dict[str, Any]) -> int:
    return int(_head_dim(config) * params.get("partial_rotary_factor", 1.0))


def _original(config: Any, params: dict[str, Any]) -> int:
    """The pretraining length: ``original_max_position_embeddings``, by default ``max_position_embeddings``."""
    return params.get("original_max_position_embeddings") or config.max_position_embeddings


def _exponents(dim: int, device) -> torch.Tensor:
    """``2i / dim`` for ``i < dim // 2``, in float32."""
    return torch.arange(0, dim, 2, dtype=torch.int64, device=device).to(torch.float32) / dim


def _default(
    config: Any, device=None, seq_len: int | None = None, layer_type: str | None = None
) -> tuple[torch.Tensor, float]:
    """``inv_freq[i] = 1 / theta ** (2i / dim)``."""
    params = _params(config, layer_type)
    base = params["rope_theta"]
    dim = _rotary_dim(config, params)
    return 1.0 / (base ** _exponents(dim, device)), 1.0


def _linear(
    config: Any, device=None, seq_len: int | None = None, layer_type: str | None = None
) -> tuple[torch.Tensor, float]:
    """Position interpolation: the default frequencies divided by ``factor``."""
    inv_freq, _ = _default(config, device, layer_type=layer_type)
    return inv_freq / _params(config, layer_type)["factor"], 1.0


def _dynamic(
    config: Any, device=None, seq_len: int | None = None, layer_type: str | None = None
) -> tuple[torch.Tensor, float]:
    """Dynamic NTK: the base grows with the sequence length beyond ``max_position_embeddings``.

    ``theta' = theta * (factor * L / max - (factor - 1)) ** (dim / (dim - 2))`` with
    ``L = max(seq_len, max_position_embeddings)``.
    """
    params = _params(config, layer_type)
    dim = _rotary_dim(config, params)
    factor = params["factor"]
    max_pos = config.max_position_embeddings
    length = max_pos if seq_len is None else max(int(seq_len), max_pos)
    base = params["rope_theta"] * ((factor * length / max_pos) - (factor - 1)) ** (dim / (dim - 2))
    return 1.0 / (base ** _exponents(dim, device)), 1.0


def _yarn_mscale(scale: float, mscale: float = 1.0) -> float:
    return 1.0 if scale <= 1 else 0.1 * mscale * math.log(scale) + 1.0


def _yarn(
    config: Any, device=None, seq_len: int | None = None, layer_type: str | None = None
) -> tuple[torch.Tensor, float]:
    """YaRN: blend interpolated and extrapolated frequencies along a linear ramp between the dims where
    ``beta_fast`` and ``beta_slow`` rotations fit in the original context; scale attention by the mscale."""
    params = _params(config, layer_type)
    base = params["rope_theta"]
    dim = _rotary_dim(config, params)
    original = _original(config, params)
    factor = params.get("factor") or config.max_position_embeddings / original
    attention_factor = params.get("attention_factor")
    if attention_factor is None:
        mscale, mscale_all_dim = params.get("mscale"), params.get("mscale_all_dim")
        if mscale and mscale_all_dim:
            attention_factor = _yarn_mscale(factor, mscale) / _yarn_mscale(factor, mscale_all_dim)
        else:
            attention_factor = _yarn_mscale(factor)
    beta_fast = params.get("beta_fast") or 32
    beta_slow = params.get("beta_slow") or 1

    def correction_dim(rotations: float) -> float:
        return dim * math.log(original / (rotations * 2 * math.pi)) / (2 * math.log(base))

    low, high = correction_dim(beta_fast), correction_dim(beta_slow)
    if params.get("truncate", True):
        low, high = math.floor(low), math.ceil(high)
    low, high = max(low, 0), min(high, dim - 1)
    if low == high:
        high += 0.001
    ramp = ((torch.arange(dim // 2, dtype=torch.float32) - low) / (high - low)).clamp(0, 1).to(device)
    extrapolation = 1 - ramp  # 1: keep the original frequency, 0: interpolate
    pos_freqs = base ** _exponents(dim, device)
    inv_freq = (1.0 / (factor * pos_freqs)) * (1 - extrapolation) + (1.0 / pos_freqs) * extrapolation
    return inv_freq, float(attention_factor)


def _longrope(
    config: Any, device=None, seq_len: int | None = None, layer_type: str | None = None
) -> tuple[torch.Tensor, float]:
    """LongRoPE: per-frequency factors, ``long_factor`` beyond the original context, ``short_factor`` within.

    ``attention_scaling = sqrt(1 + log(factor) / log(original))`` unless given, with ``factor =
    max_position_embeddings / original`` unless given.
    """
    params = _params(config, layer_type)
    base = params["rope_theta"]
    dim = _rotary_dim(config, params)
    original = _original(config, params)
    factor = params.get("factor") or config.max_position_embeddings / original
    attention_factor = params.get("attention_factor")
    if attention_factor is None:
        attention_factor = 1.0 if factor <= 1.0 else math.sqrt(1 + math.log(factor) / math.log(original))
    long = seq_len is not None and int(seq_len) > original
    ext = torch.tensor(params["long_factor" if long else "short_factor"], dtype=torch.float32, device=device)
    return 1.0 / (ext * base ** _exponents(dim, device)), float(attention_factor)


def _llama3(
    config: Any, device=None, seq_len: int | None = None, layer_type: str | None = None
) -> tuple[torch.Tensor, float]:
    """Llama 3.1: long wavelengths divided by ``factor``, short ones kept, a smooth blend in between."""
    params = _params(config, layer_type)
    inv_freq, _ = _default(config, device, layer_type=layer_type)
    factor, low_ff, high_ff = params["factor"], params["low_freq_factor"], params["high_freq_factor"]
    original = _original(config, params)
    low_wavelen, high_wavelen = original / low_ff, original / high_ff
    wavelen = 2 * math.pi / inv_freq
    scaled = torch.where(wavelen > low_wavelen, inv_freq / factor, inv_freq)
    smooth = (original / wavelen - low_ff) / (high_ff - low_ff)
    blended = (1 - smooth) * scaled / factor + smooth * scaled
    medium = (wavelen >= high_wavelen) & (wavelen <= low_wavelen)
    return torch.where(medium, blended, scaled), 1.0


def _proportional(
    config: Any,
    device=None,
    seq_len: int | None = None,
    layer_type: str | None = None,
    head_dim_key: str = "head_dim",
) -> tuple[torch.Tensor, float]:
    """Proportional RoPE: ``head_dim // 2`` frequencies, the first ``floor(partial_rotary_factor * head_dim /
    2)`` of them ``1 / theta ** (2i / head_dim) / factor``, the others 0."""
    params = _params(config, layer_type)
    head_dim = _head_dim(config, head_dim_key)
    rotated = math.floor(params.get("partial_rotary_factor", 1.0) * head_dim / 2)
    exponents = torch.arange(0, 2 * rotated, 2, dtype=torch.int64, device=device).to(torch.float32) / head_dim
    inv_freq = torch.zeros(max(head_dim // 2, rotated), dtype=torch.float32, device=device)
    inv_freq[:rotated] = 1.0 / params["rope_theta"] ** exponents
    return inv_freq / params.get("factor", 1.0), 1.0


ROPE_INIT_FUNCTIONS: dict[str, Callable[..., tuple[torch.Tensor, float]]] = {
    "default": _default,
    "linear": _linear,
    "dynamic": _dynamic,
    "yarn": _yarn,
    "longrope": _longrope,
    "llama3": _llama3,
    "proportional": _proportional,
}


def _seq_len(position_ids: torch.Tensor) -> int:
    return int(position_ids.max()) + 1


def _state(module: Any, layer_type: str | None) -> tuple[str, str]:
    """The RoPE type of ``layer_type`` (the module's own when None) and the prefix of its state's attributes:
    a module giving each layer type its own RoPE (``rope_type`` a dict by layer type) keeps
    ``<layer_type>_inv_freq``, ``<layer_type>_original_inv_freq`` and ``<layer_type>_max_seq_len_cached``."""
    if layer_type is None:
        return module.rope_type, ""
    return module.rope_type[layer_type], f"{layer_type}_"


def _init_kwargs(layer_type: str | None) -> dict[str, Any]:
    return {} if layer_type is None else {"layer_type": layer_type}


def _dynamic_update(module: Any, position_ids: torch.Tensor, device, layer_type: str | None = None) -> None:
    rope_type, prefix = _state(module, layer_type)
    seq_len = _seq_len(position_ids)
    cached = getattr(module, f"{prefix}max_seq_len_cached", module.max_seq_len_cached)
    if seq_len > cached:  # grow
        inv_freq, scaling = ROPE_INIT_FUNCTIONS[rope_type](module.config, device, seq_len, **_init_kwargs(layer_type))
        module.register_buffer(f"{prefix}inv_freq", inv_freq, persistent=False)
        setattr(module, f"{prefix}attention_scaling", scaling)
        setattr(module, f"{prefix}max_seq_len_cached", seq_len)
    elif seq_len < module.original_max_seq_len and cached > module.original_max_seq_len:  # reset
        original = getattr(module, f"{prefix}original_inv_freq").to(device)
        module.register_buffer(f"{prefix}inv_freq", original, persistent=False)
        setattr(module, f"{prefix}max_seq_len_cached", module.original_max_seq_len)


def _longrope_update(module: Any, position_ids: torch.Tensor, device, layer_type: str | None = None) -> None:
    _, prefix = _state(module, layer_type)
    params = module.config.rope_parameters if layer_type is None else module.config.rope_parameters[layer_type]
    original = _original(module.config, params)
    if _seq_len(position_ids) > original:
        long_inv_freq = getattr(module, f"{prefix}long_inv_freq", None)
        if long_inv_freq is None:
            long_inv_freq, _ = ROPE_INIT_FUNCTIONS["longrope"](
                module.config, device, original + 1, **_init_kwargs(layer_type)
            )
            setattr(module, f"{prefix}long_inv_freq", long_inv_freq)
        inv_freq = long_inv_freq.to(device)
    else:
        inv_freq = getattr(module, f"{prefix}original_inv_freq").to(device)
    module.register_buffer(f"{prefix}inv_freq", inv_freq, persistent=False)


def dynamic_rope_update(rope_forward: Callable[..., Any]) -> Callable[..., Any]:
    """Update ``self.inv_freq`` before ``rope_forward`` runs, for the dynamic RoPE types.

    Called with a ``layer_type`` (a module whose config nests RoPE parameters by layer type, its
    ``rope_type`` a dict), it updates that layer type's state alone and passes ``layer_type`` on."""

    @functools.wraps(rope_forward)
    def wrapper(self: Any, x: torch.Tensor, position_ids: torch.Tensor, layer_type: str | None = None) -> Any:
        rope_type, _ = _state(self, layer_type)
        if "dynamic" in rope_type:
            _dynamic_update(self, position_ids, x.device, layer_type)
        elif rope_type == "longrope":
            _longrope_update(self, position_ids, x.device, layer_type)
        if layer_type is None:
            return rope_forward(self, x, position_ids)
        return rope_forward(self, x, position_ids, layer_type=layer_type)

    return wrapper


def _rotate_pairs(x: torch.Tensor, interleaved: bool) -> torch.Tensor:
    """The partner of every feature, negated for the first of each pair: ``(-x2, x1)`` per pair."""
    if interleaved:
        return torch.stack((-x[..., 1::2], x[..., ::2]), dim=-1).flatten(-2)
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def rotary_embedding(
    config: Any, query: torch.Tensor, key: torch.Tensor, position_ids: torch.Tensor, interleaved: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """Query ``[batch, heads, seq, head_dim]`` and key ``[batch, kv_heads, seq, head_dim]`` rotated by their
    positions ``position_ids`` ``[batch, seq]``, as a model built from ``config`` rotates them in one forward.

    The frequencies are those of ``config``'s RoPE type for the sequence length ``max(position_ids) + 1``
    (what a fresh model's ``dynamic_rope_update`` uses: ``dynamic`` grows past the maximum, ``longrope`` takes
    its long factors past the original length); their ``n`` angles ``position * inv_freq`` (float32) rotate
    the first ``2n`` features in pairs -- ``(i, i + n)`` (the GPT-NeoX half layout) or, ``interleaved``,
    ``(2i, 2i + 1)`` (GPT-J) -- with cos and sin multiplied by the attention scaling and cast to the input's
    dtype; the remaining features pass through unchanged.  The inputs are not modified."""
    rope_type = config.rope_parameters.get("rope_type", "default")
    inv_freq, scaling = ROPE_INIT_FUNCTIONS[rope_type](config, query.device, _seq_len(position_ids))
    angles = position_ids[..., None].to(torch.float32) * inv_freq.to(query.device)  # [batch, seq, n]
    angles = angles.repeat_interleave(2, dim=-1) if interleaved else torch.cat((angles, angles), dim=-1)
    dim = angles.shape[-1]

    def rotate(x: torch.Tensor) -> torch.Tensor:
        cos = (angles.cos() * scaling).to(x.dtype)[:, None]
        sin = (angles.sin() * scaling).to(x.dtype)[:, None]
        rotated, passed = x[..., :dim], x[..., dim:]
        return torch.cat((rotated * cos + _rotate_pairs(rotated, interleaved) * sin, passed), dim=-1)

    return rotate(query), rotate(key)
