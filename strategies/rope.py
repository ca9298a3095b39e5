"""Strategies for RoPE configurations and position ids."""

from __future__ import annotations

import torch
from hypothesis import strategies as st

__all__ = [
    "DEFAULTS",
    "MAX_POSITIONS",
    "ROPE_TYPES",
    "absent_keys",
    "documented_default",
    "optional_keys",
    "position_ids",
    "rope_configs",
]

ROPE_TYPES = ("default", "linear", "dynamic", "yarn", "longrope", "llama3", "proportional")

#: Stands for "the config's ``max_position_embeddings``" in :data:`DEFAULTS`.
MAX_POSITIONS = "max_position_embeddings"

#: The optional keys of ``rope_parameters`` whose documented default is a value (or another field of the
#: config), per RoPE type (``"*"``: every type): absent, they take it.  (Defaults computed from other
#: parameters -- YaRN's and longrope's ``attention_factor``, longrope's ``factor`` -- are the formulas'.)
DEFAULTS: dict[str, dict[str, object]] = {
    "*": {"partial_rotary_factor": 1.0},
    "yarn": {"original_max_position_embeddings": MAX_POSITIONS, "beta_fast": 32, "beta_slow": 1, "truncate": True},
    "longrope": {"original_max_position_embeddings": MAX_POSITIONS},
    "llama3": {"original_max_position_embeddings": MAX_POSITIONS},
    "proportional": {"factor": 1.0},
}


def documented_default(config, key: str) -> object:
    """The documented default of optional key ``key`` for ``config`` (a RopeConfig)."""
    value = {**DEFAULTS["*"], **DEFAULTS.get(config.rope_type, {})}[key]
    return config.max_position_embeddings if value == MAX_POSITIONS else value


def optional_keys(config) -> list[str]:
    """The keys of :data:`DEFAULTS` that ``config`` may leave out (``partial_rotary_factor`` only at 1.0)."""
    keys = [k for k in DEFAULTS.get(config.rope_type, {})]
    if config.partial_rotary_factor == 1.0:
        keys.append("partial_rotary_factor")
    return keys


def absent_keys(keys: list[str]) -> st.SearchStrategy[tuple[str, ...]]:
    """A non-empty subset of ``keys`` (optional keys a config may leave out, :func:`optional_keys`), in order."""
    return st.sets(st.sampled_from(keys), min_size=1).map(lambda chosen: tuple(k for k in keys if k in chosen))


@st.composite
def rope_configs(draw: st.DrawFn, types: tuple[str, ...] = ROPE_TYPES, *, max_positions: int = 48):
    """A canonical :class:`~layer_conformance.support.rotary.RopeConfig` of one of ``types`` with its parameters.

    Optional keys are sometimes left out (YaRN's betas, mscales, attention factor and truncation,
    longrope's attention factor, proportional's factor, ``partial_rotary_factor`` at 1.0), so that the
    formulas meet their defaults; :func:`absent_keys` draws which keys of :data:`DEFAULTS` a config
    leaves out, for the property comparing absent keys with their written-out defaults.  proportional
    draws any rotated proportion of the head (0 to 1), odd numbers of rotated pairs included.

    The rotary dim (``head_dim * partial_rotary_factor``) is even and at least 2 (4 for ``dynamic``,
    whose NTK exponent ``dim / (dim - 2)`` needs it); ``original_max_position_embeddings`` goes up to
    twice ``max_position_embeddings`` for longrope (whose factor is their ratio) and up to real and
    extreme lengths for yarn (where it places the ramp); llama3's high frequency factor exceeds its
    low one.
    """
    from layer_conformance.support.rotary import RopeConfig  # the strategy builds the harness' config

    rope_type = draw(st.sampled_from(types), label="rope_type")
    min_dim = 4 if rope_type == "dynamic" else 2
    head_dim = draw(st.sampled_from([d for d in (2, 4, 6, 8, 12, 16) if d >= min_dim]), label="head_dim")
    if rope_type == "proportional":  # the rotated share of the head: any proportion, odd counts included
        factors = [1.0, 0.75, 0.5, 0.25, 0.0]
    else:
        factors = [f for f in (1.0, 0.5, 0.25) if int(head_dim * f) % 2 == 0 and int(head_dim * f) >= min_dim]
    partial = draw(st.sampled_from(factors), label="partial_rotary_factor")
    rotary_dim = int(head_dim * partial)
    max_pos = draw(st.integers(4, max_positions), label="max_position_embeddings")
    params: dict[str, object] = {}
    if rope_type in ("linear", "dynamic"):
        params["factor"] = draw(st.sampled_from([1.0, 2.0, 4.0, 1.5, 8.0]), label="factor")
    elif rope_type == "yarn":
        # None: the factor is the ratio of the maximum to the original length (given explicitly as None)
        params["factor"] = draw(st.sampled_from([1.0, 2.0, 4.0, 8.0, 16.0, 0.5, None]), label="factor")
        # small originals leave the whole ramp below dim 0; real ones (4096...) and very long ones
        # (past theta**2 * 2pi, where the upper bound is clamped to dim - 1) exercise both ends
        original = st.integers(2, max_pos) | st.sampled_from([1024, 4096, 8192, 131072])
        params["original_max_position_embeddings"] = draw(original, label="original")
        for name, options in [
            ("beta_fast", [32, 16, 64]),
            ("beta_slow", [1, 2]),
            ("mscale", [1.0, 0.707]),
            ("mscale_all_dim", [1.0, 0.707, 0.5]),
            ("attention_factor", [0.5, 1.0, 1.3]),
            ("truncate", [True, False]),
        ]:
            value = draw(st.sampled_from([None, *options]), label=name)
            if value is not None:
                params[name] = value
    elif rope_type == "longrope":
        # up to twice the maximum: a model shortened below its pretraining length has factor < 1
        params["original_max_position_embeddings"] = draw(st.integers(2, 2 * max_pos), label="original")
        ext = st.lists(st.sampled_from([1.0, 1.25, 2.0, 3.5, 8.0]), min_size=rotary_dim // 2, max_size=rotary_dim // 2)
        params["short_factor"] = tuple(draw(ext, label="short_factor"))
        params["long_factor"] = tuple(draw(ext, label="long_factor"))
        attention = draw(st.one_of(st.none(), st.sampled_from([0.8, 1.2])), label="attention_factor")
        if attention is not None:
            params["attention_factor"] = attention
    elif rope_type == "llama3":
        params["factor"] = draw(st.sampled_from([2.0, 8.0, 4.0]), label="factor")
        params["low_freq_factor"] = draw(st.sampled_from([1.0, 2.0]), label="low_freq_factor")
        params["high_freq_factor"] = draw(st.sampled_from([4.0, 8.0]), label="high_freq_factor")
        original = st.sampled_from([16, 64, 1024, 8192, 100, 8191])  # not always a multiple of the factors
        params["original_max_position_embeddings"] = draw(original, label="original")
    elif rope_type == "proportional":
        factor = draw(st.sampled_from([None, 1.0, 2.0, 0.5, 8.0]), label="factor")
        if factor is not None:
            params["factor"] = factor
    return RopeConfig(
        rope_type=rope_type,
        rope_theta=draw(st.sampled_from([10000.0, 100.0, 500000.0, 10.0]), label="rope_theta"),
        head_dim=head_dim,
        max_position_embeddings=max_pos,
        partial_rotary_factor=partial,
        num_attention_heads=draw(st.integers(1, 3), label="num_attention_heads"),
        derive_head_dim=draw(st.booleans(), label="derive_head_dim"),
        params=tuple(sorted(params.items())),
    )


@st.composite
def position_ids(draw: st.DrawFn, *, batch: int, length: int, max_position: int) -> torch.Tensor:
    """``[batch, length]`` positions below ``max_position``: consecutive from a drawn start, or any."""
    rows = []
    for _ in range(batch):
        if draw(st.booleans(), label="consecutive"):
            start = draw(st.integers(0, max(0, max_position - length)))
            rows.append(list(range(start, start + length)))
        else:
            rows.append(draw(st.lists(st.integers(0, max_position - 1), min_size=length, max_size=length)))
    return torch.tensor(rows, dtype=torch.long)
