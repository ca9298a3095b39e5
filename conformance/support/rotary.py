"""The suite's canonical RoPE configuration and the rotary module the RoPE properties build.

:class:`RopeConfig` is the one config form the strategies draw and the
``rope_config`` hook (:mod:`layer_conformance.contract`) translates;
:func:`rotary_module` builds a rotary embedding of the usual shape from an
implementation's ``ROPE_INIT_FUNCTIONS`` and ``dynamic_rope_update``.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import torch
from torch import nn

__all__ = ["LAYER_TYPES", "RopeConfig", "impl_rope_config", "rotary_module"]


LAYER_TYPES = ("full_attention", "sliding_attention")


@dataclass(frozen=True)
class RopeConfig:
    """The suite's canonical RoPE configuration (the 5.x form: everything in ``rope_parameters``).

    ``params`` holds the type's parameters (``factor``, ``original_max_position_embeddings``,
    ``beta_fast``, ``long_factor``, ...).  ``derive_head_dim`` leaves ``head_dim`` out so that it
    is derived as ``hidden_size // num_attention_heads``.
    """

    rope_type: str
    rope_theta: float
    head_dim: int
    max_position_embeddings: int
    partial_rotary_factor: float = 1.0
    num_attention_heads: int = 2
    derive_head_dim: bool = False
    params: tuple[tuple[str, Any], ...] = ()
    #: when set, ``rope_parameters`` is nested by layer type, these parameters under this one
    layer_type: str | None = None
    #: the model's hidden size when it is not ``head_dim * num_attention_heads`` (a head_dim given
    #: explicitly that differs from ``hidden_size // num_attention_heads``, as Gemma's does)
    model_size: int | None = None

    @property
    def rotary_dim(self) -> int:
        return int(self.head_dim * self.partial_rotary_factor)

    @property
    def frequencies(self) -> int:
        """How many inverse frequencies the init function returns: ``rotary_dim // 2``, or ``head_dim // 2`` for
        ``proportional`` (whose unrotated features get frequency 0)."""
        return self.head_dim // 2 if self.rope_type == "proportional" else self.rotary_dim // 2

    @property
    def hidden_size(self) -> int:
        return self.model_size or self.head_dim * self.num_attention_heads

    def param(self, name: str, default: Any = None) -> Any:
        return dict(self.params).get(name, default)

    def with_params(self, **values: Any) -> RopeConfig:
        """The same config with these parameters set (``partial_rotary_factor`` too, written out even at 1.0)."""
        params = {**dict(self.params), **values}
        partial = values.get("partial_rotary_factor", self.partial_rotary_factor)
        return dataclasses.replace(self, partial_rotary_factor=partial, params=tuple(sorted(params.items())))

    def without(self, *names: str) -> RopeConfig:
        """The same config with these parameters absent from ``rope_parameters`` (``partial_rotary_factor``
        only when it is 1.0, its default)."""
        if "partial_rotary_factor" in names and self.partial_rotary_factor != 1.0:
            raise ValueError("partial_rotary_factor can be left out only at its default, 1.0")
        return dataclasses.replace(self, params=tuple((k, v) for k, v in self.params if k not in names))

    @property
    def flat_parameters(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rope_type": self.rope_type, "rope_theta": self.rope_theta}
        if self.partial_rotary_factor != 1.0:
            out["partial_rotary_factor"] = self.partial_rotary_factor
        out.update({k: list(v) if isinstance(v, tuple) else v for k, v in self.params})
        return out

    @property
    def layer_types(self) -> list[str]:
        return list(LAYER_TYPES) if self.layer_type else []

    @property
    def rope_parameters(self) -> dict[str, Any]:
        """The flat dict, or, nested, this config's dict under ``layer_type`` and a different (default
        RoPE, other base) dict under the other layer type."""
        if not self.layer_type:
            return self.flat_parameters
        other = {"rope_type": "default", "rope_theta": self.rope_theta * 3 + 1}
        return {name: self.flat_parameters if name == self.layer_type else dict(other) for name in LAYER_TYPES}

    def namespace(self) -> SimpleNamespace:
        """The canonical config object: attributes plus a fresh ``rope_parameters`` dict."""
        ns = SimpleNamespace(
            rope_parameters=self.rope_parameters,
            hidden_size=self.hidden_size,
            num_attention_heads=self.num_attention_heads,
            max_position_embeddings=self.max_position_embeddings,
        )
        if not self.derive_head_dim:
            ns.head_dim = self.head_dim
        if self.layer_type:
            ns.layer_types = self.layer_types
        return ns


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
