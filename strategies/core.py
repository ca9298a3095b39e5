"""Core strategies: dtypes, shapes, seeds and tensors.

Every tensor is built from a seed drawn by Hypothesis (``torch.Generator``
seeded from :func:`seeds`), never from torch's global RNG, so a failing example
replays exactly and shrinks towards seed 0 and small shapes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import torch
from hypothesis import strategies as st

from layer_conformance import runtime
from layer_conformance.strategies.regimes import Regimes

__all__ = [
    "DTYPE_REGIMES",
    "LEAD_REGIMES",
    "FLOAT_DTYPES",
    "LOW_PRECISION",
    "dtypes",
    "every_lead",
    "examples",
    "explicit",
    "label_dtype",
    "label_lead",
    "generator",
    "leading_dims",
    "make_tensor",
    "pinned_dtype",
    "seeds",
    "shapes",
    "sizes",
    "tensors",
]

#: The floating dtypes the suite knows, most precise first.
FLOAT_DTYPES = (torch.float64, torch.float32, torch.bfloat16, torch.float16)
LOW_PRECISION = (torch.float16, torch.bfloat16)


#: The regimes of a dtype: each floating dtype.
DTYPE_REGIMES = Regimes(
    "dtype",
    {str(d).removeprefix("torch."): (lambda v, d=d: v == d) for d in (torch.float32, torch.float64, *LOW_PRECISION)},
)


def dtypes(*, allow_half: bool = False, allow_float64: bool = False) -> st.SearchStrategy[torch.dtype]:
    """float32, plus float64 and/or the half-precision types when the property allows them, limited to
    the dtypes selected with ``--conformance-dtype``; a property left with none is skipped.

    float32 comes first, so failures shrink to it.  Each dtype is a regime (:data:`DTYPE_REGIMES`).
    """

    options = [torch.float32]
    if allow_float64:
        options.append(torch.float64)
    if allow_half:
        options.extend(LOW_PRECISION)
    options = [d for d in options if runtime.dtype_allowed(d)]
    if not options:
        return st.just(None).map(_skip_no_dtype)
    declared = [str(d).removeprefix("torch.") for d in options]
    return st.sampled_from(options).map(lambda d: DTYPE_REGIMES.label(d, declared=declared))


def _skip_no_dtype(_: object) -> torch.dtype:
    import pytest

    pytest.skip("none of the dtypes this property uses is selected (--dtype)")


def seeds() -> st.SearchStrategy[int]:
    """A seed for ``torch.Generator``; shrinks towards 0."""
    return st.integers(min_value=0, max_value=2**31 - 1)


def generator(seed: int, device: str | torch.device = "cpu") -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed)


def sizes(min_value: int = 1, max_value: int = 4) -> st.SearchStrategy[int]:
    """One dimension size (small by default: the properties hold for any size)."""
    return st.integers(min_value=min_value, max_value=max_value)


@st.composite
def shapes(
    draw: st.DrawFn,
    *,
    min_rank: int = 1,
    max_rank: int = 5,
    min_side: int = 1,
    max_side: int = 4,
    max_numel: int = 256,
) -> tuple[int, ...]:
    """Tensor shapes of rank ``min_rank..max_rank``, sides ``min_side..max_side``, at most ``max_numel`` elements.

    The rank is drawn first, then each side within what the element budget
    leaves, so nothing is filtered out and failures shrink side by side.
    """
    rank = draw(st.integers(min_rank, max_rank), label="rank")
    shape: list[int] = []
    budget = max_numel
    for i in range(rank):
        room = budget // max(1, min_side ** (rank - i - 1))
        side = draw(st.integers(min_side, max(min_side, min(max_side, room))))
        shape.append(side)
        budget //= side
    return tuple(shape)


#: The regimes of leading dimensions.
LEAD_REGIMES = Regimes(
    "leading dims",
    {
        "none (one vector)": lambda lead: len(lead) == 0,
        "one": lambda lead: len(lead) == 1,
        "several": lambda lead: len(lead) > 1,
    },
)


def leading_dims(*, min_rank: int = 0, max_rank: int = 4, max_side: int = 3) -> st.SearchStrategy[tuple[int, ...]]:
    """Leading (batch-like) dimensions in front of a feature dimension: rank ``min_rank..max_rank``;
    labelled with :data:`LEAD_REGIMES` (those the ranks allow)."""
    declared = [
        n
        for n, lo, hi in (("none (one vector)", 0, 0), ("one", 1, 1), ("several", 2, 99))
        if lo <= max_rank and hi >= min_rank
    ]
    return shapes(min_rank=min_rank, max_rank=max_rank, max_side=max_side, max_numel=64).map(
        lambda lead: LEAD_REGIMES.label(lead, declared=declared)
    )


def make_tensor(
    shape: tuple[int, ...],
    seed: int,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device = "cpu",
    *,
    scale: float = 1.0,
    requires_grad: bool = False,
) -> torch.Tensor:
    """Standard normal values (times ``scale``) from ``seed``, drawn in float32 then cast.

    Drawing in float32 whatever the dtype makes the same seed give the same
    values in every dtype, up to rounding.
    """
    values = torch.randn(shape, generator=generator(seed), dtype=torch.float32) * scale
    out = values.to(device=device, dtype=dtype)
    if requires_grad:
        out.requires_grad_(True)
    return out


@st.composite
def tensors(
    draw: st.DrawFn,
    shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]] | None = None,
    dtype: torch.dtype | st.SearchStrategy[torch.dtype] = torch.float32,
    *,
    scale: float = 1.0,
) -> torch.Tensor:
    """A tensor of the given (or drawn) shape and dtype, filled from a drawn seed."""
    if shape is None:
        shape = shapes()
    if isinstance(shape, st.SearchStrategy):
        shape = draw(shape)
    if isinstance(dtype, st.SearchStrategy):
        dtype = draw(dtype)
    seed = draw(seeds())
    return make_tensor(shape, seed, dtype, scale=scale)


def label_dtype(dtype: torch.dtype | None) -> None:
    """Label a dtype given to a property by an explicit example (it bypasses :func:`dtypes`)."""
    if dtype is not None:
        DTYPE_REGIMES.label(dtype, declared=DTYPE_REGIMES.of(dtype))


def label_lead(lead: tuple[int, ...]) -> None:
    """Label leading dims given to a property by an explicit example (they bypass :func:`leading_dims`)."""
    LEAD_REGIMES.label(lead, declared=LEAD_REGIMES.of(lead))


def examples(*values: dict[str, Any]):
    """Hypothesis ``@example`` for each dict of the property's arguments, in this order."""
    from hypothesis import example

    def decorate(fn):
        for one in reversed(values):
            fn = example(**one)(fn)
        return fn

    return decorate


def pinned_dtype(dtype: torch.dtype) -> bool:
    """For an explicit example, whose dtype bypasses :func:`dtypes`: label it (:func:`label_dtype`) when it is
    selected (``--dtype``) and say whether it is (an unselected one's example does nothing)."""

    if not runtime.dtype_allowed(dtype):
        return False
    label_dtype(dtype)
    return True


def explicit(*values: dict[str, Any], label: Callable[[dict[str, Any]], None] | None = None):
    """Explicit examples (each a dict of the property's arguments) that reach, in every run, the regimes
    random draws reach only in most.  Their values bypass the strategies, so the property is wrapped: every
    call's arguments go through ``label`` (a drawn value labelled twice counts once) and its ``dtype``
    (by default) through :func:`pinned_dtype`; an example whose dtype is not selected (``--dtype``) does
    nothing."""

    def decorate(fn):
        @functools.wraps(fn)
        def labelled(*args, **kwargs):
            dtype = kwargs.get("dtype")
            if isinstance(dtype, torch.dtype) and not pinned_dtype(dtype):
                return None
            if label is not None:
                label(kwargs)
            return fn(*args, **kwargs)

        return examples(*values)(labelled)

    return decorate


#: One value of each :data:`LEAD_REGIMES` class, for explicit examples.
PINNED_LEADS = ((), (3,), (2, 3))


def every_lead(*, min_rank: int = 0, max_rank: int = 4, **fixed: Any):
    """Explicit examples for a property drawing ``lead=leading_dims(min_rank=..., max_rank=...)``: one per class of
    :data:`LEAD_REGIMES` the ranks allow (none, one, several), with ``fixed`` values for the property's
    other arguments, labelled as drawn leading dims are, so that every class is reached in every run."""
    leads = [lead for lead in PINNED_LEADS if min_rank <= len(lead) <= max_rank]
    return explicit(*({"lead": lead, **fixed} for lead in leads), label=lambda values: label_lead(values["lead"]))
