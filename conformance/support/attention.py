"""Calling an attention function the way the properties (and the benchmarks) do, and its definition.

* :func:`definition` -- the documented result in float64:
  ``softmax(q k^T * scaling + mask) v``, key/value head ``h // groups`` serving
  query head ``h``, output ``[batch, q_len, heads, head_dim]``;
* :func:`call` -- one call of an attention function on a case, with the case's
  mask in the form that function takes;
* :func:`attended` -- the output rows whose query attends at least one key (a
  fully masked row has no defined output: every comparison leaves it out).

``bench/measure_tolerances.py`` measures the tolerance table with these very
functions, so the table describes what the properties compare.
"""

from __future__ import annotations

from typing import Any

import torch

from layer_conformance.strategies.attention import AttentionCase, attention_module

__all__ = ["attended", "call", "definition", "mask_for"]


def definition(case: AttentionCase, q, k, v, bias) -> torch.Tensor:
    """The documented result in float64: softmax(q k^T * scaling + bias) v, key/value head h // groups."""
    q, k, v = (t.detach().double() for t in (q, k, v))
    k = k.repeat_interleave(case.groups, dim=1)
    v = v.repeat_interleave(case.groups, dim=1)
    scores = q @ k.transpose(-2, -1) * case.scaling
    if bias is not None:
        scores = scores + bias.double()
    return (scores.softmax(-1) @ v).transpose(1, 2)


def mask_for(name: str, case: AttentionCase, dtype: torch.dtype, device) -> torch.Tensor | None:
    """The case's mask in the form ``name`` takes.

    eager takes the additive mask; sdpa takes the boolean mask for the boolean
    style, the additive one otherwise, and no mask (its causal default) for the
    causal style."""
    if name.startswith("sdpa") and case.mask_style == "boolean":
        return case.keep(device)
    if name.startswith("sdpa") and case.mask_style == "causal":
        return None
    return case.bias(dtype, device)


def call(impl: Any, name: str, case: AttentionCase, q, k, v, *, dtype, device, module=None, mask: Any = "auto"):
    """Call the attention function ``name`` of ``impl`` on ``case`` (``dropout=0.0``).

    ``mask="auto"`` passes :func:`mask_for`'s mask; any other value is passed as it is.  The module
    carries the case's groups and, for sdpa, ``is_causal`` for the causal style only."""
    fn = getattr(impl, name)
    if module is None:
        causal_default = case.mask_style == "causal"
        module = attention_module(case.groups, is_causal=causal_default if name.startswith("sdpa") else None)
    if isinstance(mask, str) and mask == "auto":
        mask = mask_for(name, case, dtype, device)
    return fn(module, q, k, v, mask, scaling=case.scaling, dropout=0.0)


def attended(out: torch.Tensor, case: AttentionCase, device) -> torch.Tensor:
    """Rows of an output ``[batch, q_len, heads, head_dim]`` whose query attends at least one key,
    flattened: ``[n, head_dim]``."""
    rows = case.attended_rows(device)  # [b, 1, q]
    keep = rows.squeeze(1)[:, :, None].expand(case.batch, case.q_len, case.heads)  # [b, q, h]
    return out[keep]
