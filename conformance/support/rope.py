"""What the RoPE properties build on: the float64 formula of every RoPE type and the rotary module.

:func:`formula` is the documented inverse frequencies and attention scaling of
a canonical :class:`~layer_conformance.canonical.RopeConfig`, in float64 (plain
Python): what an implementation's init function (or, through an adapter,
another library's cache) is judged against.  :func:`impl_rope_config` turns a
canonical config into an implementation's own (its ``rope_config`` hook);
:func:`rotary_module` builds a rotary embedding of the usual shape from an
implementation's ``ROPE_INIT_FUNCTIONS`` and ``dynamic_rope_update``.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import torch
from torch import nn

from layer_conformance.canonical import RopeConfig

__all__ = ["formula", "impl_rope_config", "rotary_module", "rotation_definition"]


def formula(config: RopeConfig, seq_len: int | None) -> tuple[list[float], float]:
    """The documented inverse frequencies and attention scaling, in float64 (plain Python)."""
    d = config.rotary_dim
    theta = config.rope_theta
    p = config.param
    max_pos = config.max_position_embeddings
    exps = [2 * i / d for i in range(d // 2)]
    default = [1 / theta**e for e in exps]
    kind = config.rope_type
    if kind == "proportional":  # exponents over the whole head; the unrotated pairs get frequency 0
        rotated = math.floor(config.partial_rotary_factor * config.head_dim / 2)
        factor = p("factor", 1.0)
        head = config.head_dim
        return [1 / theta ** (2 * i / head) / factor if i < rotated else 0.0 for i in range(head // 2)], 1.0
    if kind == "default":
        return default, 1.0
    if kind == "linear":
        return [f / p("factor") for f in default], 1.0
    if kind == "dynamic":
        length = max_pos if seq_len is None else max(seq_len, max_pos)
        base = theta * (p("factor") * length / max_pos - (p("factor") - 1)) ** (d / (d - 2))
        return [1 / base**e for e in exps], 1.0
    if kind == "longrope":
        original = p("original_max_position_embeddings", max_pos)
        factor = max_pos / original
        scaling = p("attention_factor")
        if scaling is None:
            scaling = 1.0 if factor <= 1 else math.sqrt(1 + math.log(factor) / math.log(original))
        ext = p("long_factor") if seq_len is not None and seq_len > original else p("short_factor")
        return [1 / (x * theta**e) for x, e in zip(ext, exps, strict=True)], scaling
    if kind == "llama3":
        factor, low, high = p("factor"), p("low_freq_factor"), p("high_freq_factor")
        original = p("original_max_position_embeddings", max_pos)
        out = []
        for f in default:
            wavelength = 2 * math.pi / f
            if wavelength < original / high:  # high frequency: kept
                out.append(f)
            elif wavelength > original / low:  # low frequency: interpolated by factor
                out.append(f / factor)
            else:  # in between: smooth blend
                smooth = (original / wavelength - low) / (high - low)
                out.append((1 - smooth) * f / factor + smooth * f)
        return out, 1.0
    if kind == "yarn":
        original = p("original_max_position_embeddings", max_pos)
        factor = p("factor") or max_pos / original

        def mscale(scale, m=1.0):
            return 1.0 if scale <= 1 else 0.1 * m * math.log(scale) + 1.0

        scaling = p("attention_factor")
        if scaling is None:
            if p("mscale") and p("mscale_all_dim"):
                scaling = mscale(factor, p("mscale")) / mscale(factor, p("mscale_all_dim"))
            else:
                scaling = mscale(factor)
        fast, slow = p("beta_fast") or 32, p("beta_slow") or 1

        def dim_for(rotations):  # the dim whose wavelength fits `rotations` times in the original context
            return d * math.log(original / (rotations * 2 * math.pi)) / (2 * math.log(theta))

        lo, hi = dim_for(fast), dim_for(slow)
        if p("truncate", True):
            lo, hi = math.floor(lo), math.ceil(hi)
        lo, hi = max(lo, 0), min(hi, d - 1)
        if lo == hi:
            hi += 0.001
        out = []
        for i, f in enumerate(default):
            ramp = min(max((i - lo) / (hi - lo), 0.0), 1.0)  # 0: extrapolate (keep), 1: interpolate
            out.append(f / factor * ramp + f * (1 - ramp))
        return out, scaling
    raise ValueError(kind)  # pragma: no cover


def rotation_definition(
    config: RopeConfig, x: torch.Tensor, position_ids: torch.Tensor, interleaved: bool
) -> tuple[torch.Tensor, int, float]:
    """``x`` ``[batch, heads, seq, head_dim]`` rotated in float64 as documented: the :func:`formula`
    frequencies for the sequence length ``max(position_ids) + 1``, angles ``position * inv_freq`` rotating the
    first ``2n`` features in pairs (``(i, i + n)``, or ``(2i, 2i + 1)`` when ``interleaved``), cos and sin times
    the attention scaling, the other features unchanged.  Returns the rotated tensor, ``2n`` and the largest
    angle (for the float32 rounding of the angles, :func:`~layer_conformance.support.tolerances.float32_angle_error`)."""
    inv_freq, scaling = formula(config, int(position_ids.max()) + 1)
    angles = position_ids.double()[..., None] * torch.tensor(inv_freq, dtype=torch.float64, device=x.device)
    angles = angles.repeat_interleave(2, dim=-1) if interleaved else torch.cat((angles, angles), dim=-1)
    dim = angles.shape[-1]
    x = x.double()
    rotated, passed = x[..., :dim], x[..., dim:]
    if interleaved:
        partner = torch.stack((-rotated[..., 1::2], rotated[..., ::2]), dim=-1).flatten(-2)
    else:
        partner = torch.cat((-rotated[..., dim // 2 :], rotated[..., : dim // 2]), dim=-1)
    cos, sin = (angles.cos() * scaling)[:, None], (angles.sin() * scaling)[:, None]
    out = torch.cat((rotated * cos + partner * sin, passed), dim=-1)
    return out, dim, float(angles.abs().max()) if angles.numel() else 0.0


def impl_rope_config(impl: Any, config: RopeConfig) -> Any:
    """The implementation's config object for ``config`` (its ``rope_config`` hook, or the canonical one).

    A hook returns None for a configuration its config form cannot express; the draw is then discarded
    (``hypothesis.reject``), not failed."""
    result = impl.hook("rope_config", RopeConfig.namespace)(config)
    if result is None:
        from hypothesis import reject

        reject()
    return result


def rotary_module(impl: Any, config: RopeConfig, device: Any = "cpu") -> nn.Module:
    """A rotary embedding module of the usual shape whose forward is decorated by the implementation's
    ``dynamic_rope_update`` and whose frequencies come from its ``ROPE_INIT_FUNCTIONS``."""
    return _rotary_class(impl.dynamic_rope_update)(impl, config, device)


@functools.cache
def _rotary_class(decorator: Any) -> type:
    def rope_forward(self, x: torch.Tensor, position_ids: torch.Tensor):
        """cos/sin of ``position_ids * inv_freq`` (the frequencies repeated twice), times attention_scaling."""
        self.forward_calls += 1
        freqs = position_ids[..., None].to(torch.float32) * self.inv_freq.to(device=x.device, dtype=torch.float32)
        emb = torch.cat((freqs, freqs), dim=-1)
        return (emb.cos() * self.attention_scaling).to(x.dtype), (emb.sin() * self.attention_scaling).to(x.dtype)

    class Rotary(nn.Module):
        def __init__(self, impl: Any, config: RopeConfig, device: Any) -> None:
            super().__init__()
            self.canonical = config
            self.config = impl_rope_config(impl, config)
            self.rope_type = config.rope_type
            self.rope_init_fn = impl.ROPE_INIT_FUNCTIONS[config.rope_type]  # read by 4.57's decorator
            inv_freq, self.attention_scaling = self.rope_init_fn(self.config, device)
            inv_freq = inv_freq.to(device)
            self.max_seq_len_cached = config.max_position_embeddings
            self.original_max_seq_len = config.max_position_embeddings
            self.register_buffer("inv_freq", inv_freq, persistent=False)
            self.register_buffer("original_inv_freq", inv_freq.clone(), persistent=False)
            self.forward_calls = 0

        forward = torch.no_grad()(decorator(rope_forward))
        undecorated_forward = torch.no_grad()(rope_forward)

    return Rotary


def layered_rotary_module(impl: Any, config: RopeConfig, device: Any = "cpu") -> nn.Module:
    """A rotary embedding module giving each layer type its own RoPE, as Gemma 3's does (``config`` nested:
    its ``layer_type`` and the other's parameters): ``rope_type`` a dict by layer type, per layer type
    ``<layer_type>_inv_freq``, ``<layer_type>_original_inv_freq`` and ``<layer_type>_attention_scaling``
    from the implementation's init functions called with ``layer_type=``, one ``max_seq_len_cached`` and
    ``original_max_seq_len``; its forward ``(x, position_ids, layer_type)`` is decorated by the
    implementation's ``dynamic_rope_update``."""
    return _layered_rotary_class(impl.dynamic_rope_update)(impl, config, device)


@functools.cache
def _layered_rotary_class(decorator: Any) -> type:
    def rope_forward(self, x: torch.Tensor, position_ids: torch.Tensor, layer_type: str | None = None):
        """cos/sin of ``position_ids * <layer_type>_inv_freq``, times that layer type's attention scaling."""
        self.forward_calls.append(layer_type)
        inv_freq = getattr(self, f"{layer_type}_inv_freq")
        scaling = getattr(self, f"{layer_type}_attention_scaling")
        freqs = position_ids[..., None].to(torch.float32) * inv_freq.to(device=x.device, dtype=torch.float32)
        emb = torch.cat((freqs, freqs), dim=-1)
        return (emb.cos() * scaling).to(x.dtype), (emb.sin() * scaling).to(x.dtype)

    class LayeredRotary(nn.Module):
        def __init__(self, impl: Any, config: RopeConfig, device: Any) -> None:
            super().__init__()
            self.config = impl_rope_config(impl, config)
            self.layer_types = sorted(config.layer_types)
            self.rope_type = {}
            for view in (config, config.mirrored()):
                layer_type = view.layer_type
                self.rope_type[layer_type] = view.rope_type
                init = impl.ROPE_INIT_FUNCTIONS[view.rope_type]
                inv_freq, scaling = init(self.config, device, layer_type=layer_type)
                self.register_buffer(f"{layer_type}_inv_freq", inv_freq.to(device), persistent=False)
                self.register_buffer(f"{layer_type}_original_inv_freq", inv_freq.to(device).clone(), persistent=False)
                setattr(self, f"{layer_type}_attention_scaling", scaling)
            self.max_seq_len_cached = config.max_position_embeddings
            self.original_max_seq_len = config.max_position_embeddings
            self.forward_calls: list[str | None] = []

        forward = torch.no_grad()(decorator(rope_forward))

    return LayeredRotary
