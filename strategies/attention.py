"""Strategies for attention calls: shapes (grouped-query included), inputs, masks, scaling.

Regimes (:data:`ATTENTION_REGIMES`, :mod:`layer_conformance.strategies.regimes`): each mask style; one
query (decode), as many queries as keys, fewer, more; one key; grouped heads, grouped heads in decode;
a query row whose keys are all masked; a scaling other than ``head_dim ** -0.5``.  Every draw is
labelled; the draws lean towards them, nothing is filtered, and :func:`pinned_cases` gives each
property explicit examples that reach every regime its strategy declares, in every run.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import torch
from hypothesis import strategies as st
from torch import nn

from layer_conformance.strategies.regimes import Regimes

from .core import examples, make_tensor, pinned_dtype, seeds

__all__ = [
    "ATTENTION_REGIMES",
    "MASK_STYLES",
    "AttentionCase",
    "attention_cases",
    "attention_module",
    "attention_regimes",
    "pinned_cases",
]

#: How a case masks the keys: none at all, causal (upper-left), additive floats, booleans.
MASK_STYLES = ("none", "causal", "additive", "boolean")


def attention_module(groups: int = 1, *, is_causal: bool | None = None, training: bool = False) -> nn.Module:
    """The ``module`` argument of an attention function: carries ``num_key_value_groups`` (and ``is_causal``)."""
    module = nn.Module()
    module.num_key_value_groups = groups
    if is_causal is not None:
        module.is_causal = is_causal
    module.train(training)
    return module


@dataclass(frozen=True)
class AttentionCase:
    """One attention call: sizes, a seed for q/k/v, the mask style and its seed, the scaling."""

    batch: int
    kv_heads: int
    groups: int
    q_len: int
    kv_len: int
    head_dim: int
    seed: int
    mask_style: str
    mask_seed: int
    scaling: float
    #: when True, a query whose drawn keys are all masked attends its first key instead
    no_empty_rows: bool = False
    #: a query row (of the first batch row) whose keys are all masked, for the random mask styles
    masked_row: int | None = None

    @property
    def heads(self) -> int:
        return self.kv_heads * self.groups

    def qkv(self, dtype: torch.dtype, device, *, requires_grad: bool = False) -> tuple[torch.Tensor, ...]:
        q = make_tensor((self.batch, self.heads, self.q_len, self.head_dim), self.seed, dtype, device)
        k = make_tensor((self.batch, self.kv_heads, self.kv_len, self.head_dim), self.seed + 1, dtype, device)
        v = make_tensor((self.batch, self.kv_heads, self.kv_len, self.head_dim), self.seed + 2, dtype, device)
        if requires_grad:
            for t in (q, k, v):
                t.requires_grad_(True)
        return q, k, v

    def keep(self, device) -> torch.Tensor | None:
        """Boolean ``[batch, 1, q_len, kv_len]``: which keys each query attends (None: all, no mask)."""
        if self.mask_style == "none":
            return None
        if self.mask_style == "causal":
            # what sdpa does with no mask: causal aligned to the upper left, but a single query sees every key
            causal = torch.ones(self.q_len, self.kv_len, dtype=torch.bool, device=device)
            if self.q_len > 1:
                causal = causal.tril()
            return causal.expand(self.batch, 1, self.q_len, self.kv_len)
        g = torch.Generator().manual_seed(self.mask_seed)
        keep = torch.rand(self.batch, 1, self.q_len, self.kv_len, generator=g) < 0.7
        if self.masked_row is not None:
            keep[0, 0, self.masked_row % self.q_len] = False
        if self.no_empty_rows:
            keep[..., 0] |= ~keep.any(-1)
        return keep.to(device)

    def bias(self, dtype: torch.dtype, device) -> torch.Tensor | None:
        """Additive float mask: finite biases where attended, ``finfo(dtype).min`` where masked."""
        keep = self.keep(device)
        if keep is None:
            return None
        values = make_tensor(tuple(keep.shape), self.mask_seed + 1, dtype, device)
        if self.mask_style != "additive":
            values = torch.zeros_like(values)
        return torch.where(keep, values, torch.finfo(dtype).min)

    def attended_rows(self, device) -> torch.Tensor:
        """Boolean ``[batch, q_len]``-broadcastable: query rows with at least one attended key."""
        keep = self.keep(device)
        if keep is None:
            return torch.ones(self.batch, 1, self.q_len, dtype=torch.bool, device=device)
        return keep.any(-1)

    def describe(self) -> str:
        return (
            f"batch={self.batch}, heads={self.heads} (kv_heads={self.kv_heads}, groups={self.groups}), "
            f"q_len={self.q_len}, kv_len={self.kv_len}, head_dim={self.head_dim}, mask={self.mask_style}, "
            f"scaling={self.scaling:g}"
        )


def _fully_masked(case: AttentionCase) -> bool:
    keep = case.keep("cpu")
    return keep is not None and not bool(keep.any(-1).all())


#: The regimes of an attention call.
ATTENTION_REGIMES = Regimes(
    "attention",
    {
        **{f"mask {style}": (lambda c, style=style: c.mask_style == style) for style in MASK_STYLES},
        "one query (decode)": lambda c: c.q_len == 1,
        "as many queries as keys": lambda c: c.q_len == c.kv_len,
        "fewer queries than keys": lambda c: c.q_len < c.kv_len,
        "more queries than keys": lambda c: c.q_len > c.kv_len,
        "one key": lambda c: c.kv_len == 1,
        "grouped heads": lambda c: c.groups > 1,
        "grouped heads in decode": lambda c: c.groups > 1 and c.q_len == 1,
        "a fully masked query row": _fully_masked,
        "a scaling other than head_dim ** -0.5": lambda c: not math.isclose(c.scaling, c.head_dim**-0.5),
    },
)


@st.composite
def attention_cases(
    draw: st.DrawFn,
    *,
    styles: tuple[str, ...] = MASK_STYLES,
    max_len: int = 6,
    max_dim: int = 8,
    max_groups: int = 3,
    no_empty_rows: bool = False,
) -> AttentionCase:
    """Attention calls: batch 1-2, 1-2 key/value heads times 1-``max_groups`` groups, lengths 1..max_len (q and
    kv may differ), head_dim 1..max_dim, a mask style, and a scaling that is usually ``head_dim ** -0.5``.

    The query length leans towards one query and towards as many as the keys; random masks sometimes mask
    every key of one query (unless ``no_empty_rows``: then such a query attends its first key).  The draw
    is labelled with its :data:`ATTENTION_REGIMES`."""
    head_dim = draw(st.integers(1, max_dim), label="head_dim")
    scaling = draw(st.one_of(st.just(1 / math.sqrt(head_dim)), st.sampled_from([0.25, 1.0, 1.7])), label="scaling")
    kv_len = draw(st.integers(1, max_len), label="kv_len")
    q_len = draw(st.one_of(st.just(1), st.just(kv_len), st.integers(1, max_len)), label="q_len")
    style = draw(st.sampled_from(styles), label="mask_style")
    masked_row = None
    if style in ("additive", "boolean") and not no_empty_rows:
        masked_row = draw(st.one_of(st.none(), st.integers(0, q_len - 1)), label="masked_row")
    case = AttentionCase(
        batch=draw(st.integers(1, 2), label="batch"),
        kv_heads=draw(st.integers(1, 2), label="kv_heads"),
        groups=draw(st.integers(1, max_groups), label="groups"),
        q_len=q_len,
        kv_len=kv_len,
        head_dim=head_dim,
        seed=draw(seeds(), label="seed"),
        mask_style=style,
        mask_seed=draw(seeds(), label="mask_seed"),
        scaling=scaling,
        no_empty_rows=no_empty_rows,
        masked_row=masked_row,
    )
    return ATTENTION_REGIMES.label(case, declared=attention_regimes(styles, max_groups, no_empty_rows))


def attention_regimes(styles: tuple[str, ...] = MASK_STYLES, max_groups: int = 3, no_empty_rows: bool = False):
    """The regimes of :data:`ATTENTION_REGIMES` that :func:`attention_cases` declares for these arguments."""
    declared = [f"mask {s}" for s in styles]
    declared += ["one query (decode)", "as many queries as keys", "fewer queries than keys", "more queries than keys"]
    declared += ["one key", "a scaling other than head_dim ** -0.5"]
    if max_groups > 1:
        declared += ["grouped heads", "grouped heads in decode"]
    if not no_empty_rows and {"additive", "boolean"} & set(styles):
        declared.append("a fully masked query row")
    return declared


def _pinned(styles: tuple[str, ...], max_groups: int, no_empty_rows: bool) -> list[AttentionCase]:
    """Calls :func:`attention_cases` (with these arguments) can draw that together reach every regime it
    declares: grouped heads in decode with a query row that attends nothing and a scaling of 1; as many
    queries as keys; more queries than keys, one key; fewer queries than keys -- each mask style once."""
    random = [s for s in ("boolean", "additive") if s in styles] or [styles[0]]
    rest = [s for s in styles if s != random[0]]
    order = [random[0], *rest] + [styles[0]] * 3
    sizes = [(1, 3, 2, 1.0), (3, 3, 1, None), (4, 1, 3, None), (2, 4, 1, None)]  # q_len, kv_len, groups, scaling
    cases = []
    for i, (q_len, kv_len, groups, scaling) in enumerate(sizes):
        style = order[i]
        masked = 0 if i == 0 and style in ("additive", "boolean") and not no_empty_rows else None
        cases.append(
            AttentionCase(
                batch=2,
                kv_heads=2 if i % 2 else 1,
                groups=min(groups, max_groups),
                q_len=q_len,
                kv_len=kv_len,
                head_dim=4,
                seed=17 + i,
                mask_style=style,
                mask_seed=29 + i,
                scaling=0.5 if scaling is None else scaling,  # 4 ** -0.5 unless given
                no_empty_rows=no_empty_rows,
                masked_row=masked,
            )
        )
    return cases


def pinned_cases(
    *,
    styles: tuple[str, ...] = MASK_STYLES,
    max_groups: int = 3,
    no_empty_rows: bool = False,
    more_dtypes: tuple = (),
    **fixed,
):
    """Explicit examples for a property drawing ``case=attention_cases(...)`` with these arguments: the calls of
    :func:`_pinned` (with the ``fixed`` values of the property's other arguments), so that every regime the
    strategy declares is reached in every run whatever the seed.  The property is wrapped so that these
    calls, which bypass the strategy, are labelled like drawn ones.  A property drawing its ``dtype`` too
    names the others it draws in ``more_dtypes``: the pinned cases take them in turn in more examples, and
    every example's dtype is labelled (an unselected one, ``--dtype``, does nothing)."""
    cases = _pinned(tuple(styles), max_groups, no_empty_rows)
    declared = attention_regimes(tuple(styles), max_groups, no_empty_rows)
    pinned = set(cases)
    values = [dict(case=case, **fixed) for case in cases]
    values += [dict(case=cases[i % len(cases)], **{**fixed, "dtype": d}) for i, d in enumerate(more_dtypes)]

    def decorate(fn):
        @functools.wraps(fn)
        def labelled(*args, **kwargs):
            case = kwargs.get("case")
            if case in pinned:
                dtype = kwargs.get("dtype")
                if more_dtypes and isinstance(dtype, torch.dtype) and not pinned_dtype(dtype):
                    return None
                ATTENTION_REGIMES.label(case, declared=declared)
            return fn(*args, **kwargs)

        return examples(*values)(labelled)

    return decorate
