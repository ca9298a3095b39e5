"""Base of the broken rotations: the reference's ``rotary_embedding`` with one thing changed, chosen by keyword.

:func:`rotation` is the documented rotation (frequencies of the config's type for the length
``max(position_ids) + 1``, pairs ``(i, i + n)`` or ``(2i, 2i + 1)``, cos and sin times the attention scaling,
the other features unchanged); each broken module passes the one departure it has.
"""

from __future__ import annotations

import torch

from layer_conformance.reference import rope as _ref

ROPE_INIT_FUNCTIONS = _ref.ROPE_INIT_FUNCTIONS
dynamic_rope_update = _ref.dynamic_rope_update


def rotation(
    config,
    x: torch.Tensor,
    position_ids: torch.Tensor,
    interleaved: bool,
    *,
    sign: float = 1.0,
    scale_passed: bool = False,
    layout: bool | None = None,
    length: int | None = None,
) -> torch.Tensor:
    """``sign=-1``: turn the other way; ``scale_passed``: multiply the unrotated features by the scaling too;
    ``layout``: pair the features this way whatever ``interleaved`` says; ``length``: take the frequencies for
    this sequence length instead of ``max(position_ids) + 1``."""
    rope_type = config.rope_parameters.get("rope_type", "default")
    seq_len = length if length is not None else int(position_ids.max()) + 1
    inv_freq, scaling = ROPE_INIT_FUNCTIONS[rope_type](config, x.device, seq_len)
    pairs = interleaved if layout is None else layout
    angles = position_ids[..., None].float() * inv_freq
    angles = angles.repeat_interleave(2, -1) if pairs else torch.cat((angles, angles), -1)
    dim = angles.shape[-1]
    cos = (angles.cos() * scaling).to(x.dtype)[:, None]
    sin = (angles.sin() * scaling).to(x.dtype)[:, None]
    rotated, passed = x[..., :dim], x[..., dim:]
    if scale_passed:
        passed = passed * torch.tensor(scaling, dtype=x.dtype) * 2
    return torch.cat((rotated * cos + sign * _ref._rotate_pairs(rotated, pairs) * sin, passed), -1)
