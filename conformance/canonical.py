"""Values of the canonical call forms that are more than plain arguments: the RoPE and mask configurations.

:class:`RopeConfig` is the one config form the strategies draw
(:func:`layer_conformance.strategies.rope.rope_configs`), the properties pass
and the ``rope_config`` hook (:data:`layer_conformance.contract.HOOKS`)
translates into an implementation's own config object; the transformers
adapter turns it into ``rope_parameters`` or ``rope_scaling``, an adapter for
another library into that library's arguments.  The properties judge an
implementation's output against :func:`layer_conformance.support.rope.formula`
of the same config.  This module imports nothing but the standard library.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

__all__ = ["LAYER_TYPES", "MASK_LAYER_TYPES", "MaskConfig", "RopeConfig"]


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
    #: nested only: the other layer type's flat parameters (``rope_type``, ``rope_theta``, ...); empty: the
    #: default RoPE with another base (``rope_theta * 3 + 1``)
    other: tuple[tuple[str, Any], ...] = ()

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
        return {
            name: self.flat_parameters if name == self.layer_type else self.other_parameters for name in LAYER_TYPES
        }

    @property
    def other_layer_type(self) -> str:
        """Nested only: the layer type whose parameters are :attr:`other`."""
        return next(name for name in LAYER_TYPES if name != self.layer_type)

    @property
    def other_parameters(self) -> dict[str, Any]:
        """Nested only: the other layer type's dict."""
        if not self.other:
            return {"rope_type": "default", "rope_theta": self.rope_theta * 3 + 1}
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.other}

    def mirrored(self) -> RopeConfig:
        """Nested only: the same model config seen from the other layer type (its parameters this config's
        own, these its other), so that the other layer type's expected values come from the same formulas."""
        params = dict(self.other_parameters)
        rope_type, rope_theta = params.pop("rope_type"), params.pop("rope_theta")
        partial = params.pop("partial_rotary_factor", 1.0)
        own = tuple(sorted(self.flat_parameters.items()))
        return dataclasses.replace(
            self,
            rope_type=rope_type,
            rope_theta=rope_theta,
            partial_rotary_factor=partial,
            params=tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in params.items())),
            layer_type=self.other_layer_type,
            other=tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in own),
        )

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


#: The layer types whose masks ``create_masks_for_generate`` builds, and the entry point building each.
MASK_LAYER_TYPES = {
    "full_attention": "create_causal_mask",
    "sliding_attention": "create_sliding_window_causal_mask",
    "chunked_attention": "create_chunked_causal_mask",
}


class MaskConfig:
    """The model config the mask entry points read (``create_causal_mask(config, ...)`` and its siblings):
    ``_attn_implementation`` (the key of the mask builder in ``AttentionMaskInterface``), ``sliding_window``,
    ``attention_chunk_size``, ``layer_types`` only when given (a model with several kinds of layers), and
    ``get_text_config()`` (itself, as for a text-only model).  A plain object, as transformers' configs are
    read: by attribute."""

    def __init__(
        self,
        attn_implementation: str,
        *,
        sliding_window: int | None = None,
        attention_chunk_size: int | None = None,
        layer_types: list[str] | None = None,
    ) -> None:
        self._attn_implementation = attn_implementation
        self.sliding_window = sliding_window
        self.attention_chunk_size = attention_chunk_size
        if layer_types is not None:
            self.layer_types = list(layer_types)

    def get_text_config(self, *args: Any, **kwargs: Any) -> MaskConfig:
        return self

    def __repr__(self) -> str:
        fields = [f"_attn_implementation={self._attn_implementation!r}"]
        for name in ("sliding_window", "attention_chunk_size", "layer_types"):
            value = getattr(self, name, None)
            if value is not None:
                fields.append(f"{name}={value!r}")
        return f"MaskConfig({', '.join(fields)})"
