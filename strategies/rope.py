"""Strategies for RoPE configurations, sequence lengths and position ids.

Regimes (:mod:`layer_conformance.strategies.regimes`): :data:`ROPE_REGIMES` -- per type, the parameters'
boundaries (YaRN's factor from the lengths, below 1 and above, an original context beyond the maximum,
truncation off, the mscale ratio; longrope's factor below 1; llama3's three wavelength bands;
proportional with nothing rotated or an odd number of rotated pairs), and for every type a partial
rotary factor, a head dim derived from ``hidden_size``, and one given explicitly that differs from
``hidden_size // num_attention_heads``; :data:`SEQ_LEN_REGIMES` -- no length, below, at and just past
the maximum and the original context.  Every draw is labelled; the draws lean towards them, and
:data:`PINNED_CONFIGS` with :func:`pinned_case` give the explicit examples that reach every one of them
in every run, whatever the seed.
"""

from __future__ import annotations

import dataclasses
import math

import torch
from hypothesis import strategies as st

from layer_conformance.canonical import RopeConfig
from layer_conformance.strategies.regimes import Regimes

__all__ = [
    "ROPE_REGIMES",
    "SEQ_LEN_REGIMES",
    "DEFAULTS",
    "MAX_POSITIONS",
    "PINNED_CASES",
    "PINNED_CONFIGS",
    "ROPE_TYPES",
    "absent_keys",
    "documented_default",
    "label_config",
    "optional_keys",
    "pinned_case",
    "pinned_seq_len",
    "position_ids",
    "rope_configs",
    "rope_regimes",
    "seq_lens",
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


def _llama3_bands(config) -> set[str]:
    """The wavelength bands llama3's frequencies fall in: ``high`` (kept), ``low`` (divided by the factor),
    ``smooth`` (blended)."""
    original = config.param("original_max_position_embeddings", config.max_position_embeddings)
    low, high = config.param("low_freq_factor"), config.param("high_freq_factor")
    bands = set()
    d = config.rotary_dim
    for i in range(d // 2):
        wavelength = 2 * math.pi * config.rope_theta ** (2 * i / d)
        bands.add("high" if wavelength < original / high else "low" if wavelength > original / low else "smooth")
    return bands


def _factor(config, test) -> bool:
    factor = config.param("factor")
    return factor is not None and test(factor)


def _original(config) -> int:
    return config.param("original_max_position_embeddings", config.max_position_embeddings)


#: The regimes of a RoPE config: per type (``"<type>: ..."``), and for every type (``"any type: ..."``).
ROPE_REGIMES = Regimes(
    "rope config",
    {
        "any type: a partial rotary factor": lambda c: c.partial_rotary_factor < 1,
        "any type: head dim derived from hidden_size // heads": lambda c: c.derive_head_dim,
        "any type: head_dim other than hidden_size // heads": lambda c: c.model_size is not None,
        "linear: factor 1": lambda c: c.rope_type == "linear" and c.param("factor") == 1,
        "dynamic: factor 1": lambda c: c.rope_type == "dynamic" and c.param("factor") == 1,
        "yarn: factor from the lengths": lambda c: c.rope_type == "yarn" and c.param("factor") is None,
        "yarn: factor below 1": lambda c: c.rope_type == "yarn" and _factor(c, lambda f: f < 1),
        "yarn: factor above 1": lambda c: c.rope_type == "yarn" and _factor(c, lambda f: f > 1),
        "yarn: original context beyond the maximum": lambda c: (
            c.rope_type == "yarn" and _original(c) > c.max_position_embeddings
        ),
        "yarn: truncation off": lambda c: c.rope_type == "yarn" and c.param("truncate") is False,
        "yarn: mscale and mscale_all_dim": lambda c: (
            c.rope_type == "yarn" and bool(c.param("mscale") and c.param("mscale_all_dim"))
        ),
        "yarn: attention_factor given": lambda c: c.rope_type == "yarn" and c.param("attention_factor") is not None,
        "longrope: factor below 1 (original context beyond the maximum)": lambda c: (
            c.rope_type == "longrope" and _original(c) > c.max_position_embeddings
        ),
        "longrope: factor above 1": lambda c: c.rope_type == "longrope" and _original(c) < c.max_position_embeddings,
        "longrope: attention_factor given": lambda c: (
            c.rope_type == "longrope" and c.param("attention_factor") is not None
        ),
        "llama3: a frequency in the high band": lambda c: c.rope_type == "llama3" and "high" in _llama3_bands(c),
        "llama3: a frequency in the low band": lambda c: c.rope_type == "llama3" and "low" in _llama3_bands(c),
        "llama3: a frequency in the smooth band": lambda c: c.rope_type == "llama3" and "smooth" in _llama3_bands(c),
        "proportional: nothing rotated": lambda c: c.rope_type == "proportional" and c.partial_rotary_factor == 0,
        "proportional: an odd number of rotated pairs": lambda c: (
            c.rope_type == "proportional" and math.floor(c.partial_rotary_factor * c.head_dim / 2) % 2 == 1
        ),
        "proportional: factor absent": lambda c: c.rope_type == "proportional" and c.param("factor") is None,
        **{f"type: {t}": (lambda c, t=t: c.rope_type == t) for t in ROPE_TYPES},
    },
)


def rope_regimes(types: tuple[str, ...], *, partial_rotary: bool = True) -> list[str]:
    """The regimes of :data:`ROPE_REGIMES` that :func:`rope_configs` declares for ``types``: a type's own
    regimes when it is the only one drawn (a property per type), each type when several are, the ones of
    every type always (a partial rotary factor only when ``partial_rotary``)."""
    names = [n for n in ROPE_REGIMES.names if n.startswith("any type:")]
    if not partial_rotary:
        names.remove("any type: a partial rotary factor")
    if len(types) == 1:
        names += [n for n in ROPE_REGIMES.names if n.startswith(f"{types[0]}:")]
    else:
        names += [f"type: {t}" for t in types]
    return names


def label_config(config, types: tuple[str, ...] | None = None, *, partial_rotary: bool = True):
    """Label ``config`` as :func:`rope_configs` (of ``types``; by default the config's own type) labels its
    draws -- for configs that bypass the strategy -- and return it."""
    declared = rope_regimes(types or (config.rope_type,), partial_rotary=partial_rotary)
    return ROPE_REGIMES.label(config, declared=declared)


@st.composite
def rope_configs(
    draw: st.DrawFn, types: tuple[str, ...] = ROPE_TYPES, *, max_positions: int = 48, partial_rotary: bool = True
):
    """A canonical :class:`~layer_conformance.canonical.RopeConfig` of one of ``types`` with its parameters.

    Optional keys are sometimes left out (YaRN's betas, mscales, attention factor and truncation,
    longrope's attention factor, proportional's factor, ``partial_rotary_factor`` at 1.0), so that the
    formulas meet their defaults; :func:`absent_keys` draws which keys of :data:`DEFAULTS` a config
    leaves out, for the property comparing absent keys with their written-out defaults.  proportional
    draws any rotated proportion of the head (0 to 1), odd numbers of rotated pairs included.

    The rotary dim (``head_dim * partial_rotary_factor``) is even and at least 2 (4 for ``dynamic``,
    whose NTK exponent ``dim / (dim - 2)`` needs it); ``original_max_position_embeddings`` goes up to
    twice ``max_position_embeddings`` for longrope (whose factor is their ratio) and up to real and
    extreme lengths for yarn (where it places the ramp); llama3's high frequency factor exceeds its
    low one.  The head dim is derived from ``hidden_size // num_attention_heads``, given and equal to
    it, or given and different from it (the hidden size is then wider).  YaRN's factor is drawn by
    class: from the lengths (None), below 1, 1, above 1.  Labelled with its :data:`ROPE_REGIMES`.
    ``partial_rotary=False`` keeps ``partial_rotary_factor`` at 1.0 (proportional excepted: its rotated
    share is its own regime) and declares no partial rotary factor.
    """

    rope_type = draw(st.sampled_from(types), label="rope_type")
    min_dim = 4 if rope_type == "dynamic" else 2
    head_dim = draw(st.sampled_from([d for d in (2, 4, 6, 8, 12, 16) if d >= min_dim]), label="head_dim")
    if rope_type == "proportional":  # the rotated share of the head: any proportion, odd counts included
        factors = [1.0, 0.75, 0.5, 0.25, 0.0]
    elif not partial_rotary:
        factors = [1.0]
    else:
        factors = [f for f in (1.0, 0.5, 0.25) if int(head_dim * f) % 2 == 0 and int(head_dim * f) >= min_dim]
    partial = draw(st.sampled_from(factors), label="partial_rotary_factor")
    max_pos = draw(st.integers(4, max_positions), label="max_position_embeddings")
    params: dict[str, object] = {}
    rotary_dim = int(head_dim * partial)
    if rope_type in ("linear", "dynamic"):
        params["factor"] = draw(st.sampled_from([1.0, 2.0, 4.0, 1.5, 8.0]), label="factor")
    elif rope_type == "yarn":
        # None: the factor is the ratio of the maximum to the original length (given explicitly as None)
        factor = st.one_of(st.none(), st.just(0.5), st.just(1.0), st.sampled_from([2.0, 4.0, 8.0, 16.0]))
        params["factor"] = draw(factor, label="factor")
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
    heads = draw(st.integers(1, 3), label="num_attention_heads")
    head_dim_form = draw(st.sampled_from(["given", "derived", "given, other than hidden_size // heads"]))
    config = RopeConfig(
        rope_type=rope_type,
        rope_theta=draw(st.sampled_from([10000.0, 100.0, 500000.0, 10.0]), label="rope_theta"),
        head_dim=head_dim,
        max_position_embeddings=max_pos,
        partial_rotary_factor=partial,
        num_attention_heads=heads,
        derive_head_dim=head_dim_form == "derived",
        params=tuple(sorted(params.items())),
        model_size=(head_dim + 2) * heads if head_dim_form.startswith("given, other") else None,
    )
    return label_config(config, types, partial_rotary=partial_rotary)


def _seq_len_classes(v) -> dict[str, bool]:
    config, seq_len = v
    original = config.param("original_max_position_embeddings")
    max_pos = config.max_position_embeddings
    return {
        "none": seq_len is None,
        "below the maximum": seq_len is not None and seq_len < max_pos,
        "at the maximum": seq_len == max_pos,
        "just past the maximum": seq_len == max_pos + 1,
        "far past the maximum": seq_len is not None and seq_len > max_pos + 1,
        "at the original context": original is not None and seq_len == original,
        "just past the original context": original is not None and seq_len == original + 1,
    }


#: The regimes of a sequence length against a config (labelled values: ``(config, seq_len)``).
SEQ_LEN_REGIMES = Regimes(
    "seq_len",
    {
        name: (lambda v, name=name: _seq_len_classes(v)[name])
        for name in (
            "none",
            "below the maximum",
            "at the maximum",
            "just past the maximum",
            "far past the maximum",
            "at the original context",
            "just past the original context",
        )
    },
)


def seq_lens(config) -> st.SearchStrategy[int | None]:
    """None, any length up to 3x the maximum, or the lengths the config's type switches at: dynamic's
    maximum and one past it, longrope's original context and one past it.  Labelled with
    :data:`SEQ_LEN_REGIMES` (those boundaries for the type that has them)."""
    max_pos = config.max_position_embeddings
    bounds, declared = _seq_len_boundaries(config)
    options = [st.none(), *(st.just(n) for n in bounds), st.integers(1, 3 * max_pos)]
    return st.one_of(*options).map(lambda n: SEQ_LEN_REGIMES.label((config, n), declared=declared)[1])


def _seq_len_boundaries(config) -> tuple[list[int], list[str]]:
    """The lengths the config's type switches at and the regimes :func:`seq_lens` declares for it."""
    max_pos = config.max_position_embeddings
    original = config.param("original_max_position_embeddings")
    declared = ["none", "below the maximum", "far past the maximum"]
    if config.rope_type == "dynamic":
        return [max_pos, max_pos + 1], [*declared, "at the maximum", "just past the maximum"]
    if config.rope_type == "longrope" and original:
        return [original, original + 1], [*declared, "at the original context", "just past the original context"]
    return [], declared


def pinned_seq_len(config, index: int) -> int | None:
    """For an explicit example: the ``index``-th length the config's type switches at (dynamic: the maximum,
    one past it; longrope: the original context, one past it), labelled as :func:`seq_lens` labels its
    draws; None when the type switches at fewer lengths."""
    bounds, declared = _seq_len_boundaries(config)
    if index >= len(bounds):
        return None
    return SEQ_LEN_REGIMES.label((config, bounds[index]), declared=declared)[1]


def _pin(
    rope_type: str,
    form: str = "given",
    *,
    theta: float = 10000.0,
    head_dim: int = 8,
    partial: float = 1.0,
    max_pos: int = 16,
    **params,
):
    """A pinned config; ``form``: its head dim ``given``, ``derived`` from hidden_size // heads, or given and
    ``other`` than hidden_size // heads (neither form changes the frequencies)."""

    return RopeConfig(
        rope_type,
        theta,
        head_dim=head_dim,
        max_position_embeddings=max_pos,
        partial_rotary_factor=partial,
        derive_head_dim=form == "derived",
        params=tuple(sorted(params.items())),
        model_size=(head_dim + 2) * 2 if form == "other" else None,
    )


_ORIGINAL = "original_max_position_embeddings"

#: Explicit examples' configs, per type: together they reach every regime :func:`rope_configs` declares
#: for the type alone, and each type's first two reach the regimes of every type (head dim derived,
#: given other than hidden_size // heads, a partial rotary factor).  Besides the regimes they pin
#: values random draws reach too rarely: YaRN with both correction bounds clamped (theta 10, a very
#: long original context), YaRN's mscale ratio, YaRN below factor 1 with every default (beta_fast 32,
#: beta_slow 1, ramp untruncated: a default off by one moves the ramp); llama3 with a wavelength just
#: under each band edge where the edges ``original / factor`` are not whole numbers (12.2 under
#: 100 / 8, 33.15 under 100 / 3: rounding the edge down puts it in the other band).
PINNED_CONFIGS: dict[str, tuple] = {
    "default": (_pin("default", "derived"), _pin("default", "other", partial=0.5)),
    "linear": (_pin("linear", "derived", factor=1.0), _pin("linear", "other", partial=0.5, factor=2.0)),
    "dynamic": (_pin("dynamic", "derived", factor=1.0), _pin("dynamic", "other", partial=0.5, factor=2.0)),
    "yarn": (
        _pin("yarn", "derived", factor=None, attention_factor=1.3, **{_ORIGINAL: 8}),
        _pin("yarn", "other", theta=10.0, partial=0.5, beta_fast=16, factor=4.0, truncate=False, **{_ORIGINAL: 131072}),
        _pin("yarn", head_dim=16, factor=8.0, mscale=0.707, mscale_all_dim=0.5, **{_ORIGINAL: 4096}),
        _pin("yarn", head_dim=16, factor=0.5, truncate=False, **{_ORIGINAL: 4096}),
        # attention_factor beside a factor: a library that fails on factor None (pinned above) still meets it
        _pin("yarn", factor=4.0, attention_factor=1.3, **{_ORIGINAL: 8}),
    ),
    "longrope": (
        _pin(
            "longrope",
            "derived",
            short_factor=(1.0, 1.25, 2.0, 3.5),
            long_factor=(2.0, 2.0, 8.0, 1.0),
            **{_ORIGINAL: 8},
        ),
        _pin(
            "longrope",
            "other",
            partial=0.5,
            short_factor=(1.25, 2.0),
            long_factor=(8.0, 1.0),
            attention_factor=0.8,
            **{_ORIGINAL: 32},
        ),
    ),
    "llama3": (
        _pin(
            "llama3", "derived", head_dim=16, factor=8.0, high_freq_factor=8.0, low_freq_factor=1.0, **{_ORIGINAL: 8191}
        ),
        _pin("llama3", "other", partial=0.5, factor=8.0, high_freq_factor=4.0, low_freq_factor=1.0, **{_ORIGINAL: 8}),
        _pin(
            "llama3", theta=3.77, head_dim=4, factor=8.0, high_freq_factor=8.0, low_freq_factor=1.0, **{_ORIGINAL: 100}
        ),
        _pin(
            "llama3",
            theta=27.835,
            head_dim=4,
            factor=8.0,
            high_freq_factor=8.0,
            low_freq_factor=3.0,
            **{_ORIGINAL: 100},
        ),
    ),
    "proportional": (
        _pin("proportional", "derived", partial=0.0),
        _pin("proportional", "other", partial=0.75, factor=2.0),
    ),
}


def _seq_choices(config) -> list[int | None]:
    """The lengths a pinned example takes in turn: none, below the maximum, far past it, then the lengths
    the config's type switches at (:func:`pinned_seq_len`)."""
    max_pos = config.max_position_embeddings
    return [None, max_pos // 2, 3 * max_pos, *_seq_len_boundaries(config)[0]]


#: How many explicit examples :func:`pinned_case` fills for the type with the most (configs or lengths).
PINNED_CASES = max(max(len(pins), len(_seq_choices(pins[0]))) for pins in PINNED_CONFIGS.values())


def _whole_rotary(config):
    """``config`` with ``partial_rotary_factor`` 1.0 (proportional's rotated share kept); longrope's
    per-frequency factors repeated to the whole head's frequencies."""
    if config.rope_type == "proportional" or config.partial_rotary_factor == 1.0:
        return config
    whole = dataclasses.replace(config, partial_rotary_factor=1.0)
    if config.param("short_factor") is None:
        return whole
    count = whole.rotary_dim // 2
    return whole.with_params(**{k: (config.param(k) * count)[:count] for k in ("short_factor", "long_factor")})


def pinned_case(rope_type: str, index: int, *, seq_len: bool = False, partial_rotary: bool = True):
    """For explicit examples ``0 .. PINNED_CASES - 1`` of a property over one RoPE type: ``(config, seq_len)``,
    the ``index``-th of :data:`PINNED_CONFIGS` (cycling) and, when the property draws lengths
    (``seq_len=True``), the ``index``-th of its lengths (cycling; otherwise None); None once every config
    and length has had its turn.  Labelled as :func:`rope_configs` and :func:`seq_lens` label their draws,
    so that the examples alone reach every regime the property declares.  ``partial_rotary=False`` as in
    :func:`rope_configs`: the configs with a partial rotary factor rotate the whole head instead."""
    pins = (
        [c for c in map(_whole_rotary, PINNED_CONFIGS[rope_type]) if c]
        if not partial_rotary
        else PINNED_CONFIGS[rope_type]
    )
    config = pins[index % len(pins)]
    choices = _seq_choices(config) if seq_len else [None]  # as many for every config of a type
    if index >= max(len(pins), len(choices)):
        return None
    label_config(config, partial_rotary=partial_rotary)
    length = choices[index % len(choices)]
    if seq_len:
        SEQ_LEN_REGIMES.label((config, length), declared=_seq_len_boundaries(config)[1])
    return config, length


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
