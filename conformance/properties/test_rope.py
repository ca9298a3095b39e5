"""RoPE: the init functions of ROPE_INIT_FUNCTIONS and dynamic_rope_update.

The rotary module is built by the suite (:func:`layer_conformance.support.rope.rotary_module`):
it holds ``inv_freq``, ``original_inv_freq``, ``max_seq_len_cached``,
``original_max_seq_len``, ``attention_scaling``, ``rope_type`` and the config, is
initialised with the implementation's init function for the drawn type, and its
``forward(x, position_ids) -> (cos, sin)`` is decorated with the implementation's
``dynamic_rope_update``.  Configs are drawn in the canonical form and handed to
the implementation through its ``rope_config`` hook (transformers: 4.57's
``rope_scaling`` / 5.x's ``rope_parameters``).
"""

from __future__ import annotations

import dataclasses
import inspect
import itertools
import math

import pytest
import torch
from hypothesis import assume, example, given, note
from hypothesis import strategies as st

from layer_conformance import runtime
from layer_conformance.canonical import LAYER_TYPES, RopeConfig
from layer_conformance.impls import load_implementation
from layer_conformance.missing import missing
from layer_conformance.strategies import dtypes, make_tensor, seeds
from layer_conformance.strategies.core import examples, pinned_dtype
from layer_conformance.strategies.regimes import Regimes
from layer_conformance.strategies.rope import (
    DEFAULTS,
    PINNED_CASES,
    PINNED_CONFIGS,
    ROPE_TYPES,
    absent_keys,
    documented_default,
    label_config,
    optional_keys,
    pinned_case,
    pinned_seq_len,
    position_ids,
    rope_configs,
    seq_lens,
)
from layer_conformance.support.checks import as_tensor_result, assert_close, assert_equal, call_unmutated, requires
from layer_conformance.support.rope import (
    formula,
    impl_rope_config,
    layered_rotary_module,
    rotary_module,
    rotation_definition,
)
from layer_conformance.support.tolerances import float32_angle_error, measured, tolerance

pytestmark = requires("ROPE_INIT_FUNCTIONS")

TYPES = [pytest.param(t, id=t) for t in ROPE_TYPES]
STATIC_TYPES = ("default", "linear", "yarn", "llama3", "proportional")
REFERENCE = load_implementation("reference")


def scaling_close(scaling, expected: float) -> bool:
    """An attention scaling equals ``expected`` within the precision of what it is returned as: a Python float
    to 1e-9 relative; a tensor (a library read off its float32 output) within its dtype's ``rope_init``
    tolerance."""
    if isinstance(scaling, torch.Tensor):
        tol = tolerance("rope_init", scaling.dtype, runtime.device())
        return abs(float(scaling) - expected) <= tol.atol + tol.rtol * abs(expected)
    return math.isclose(float(scaling), expected, rel_tol=1e-9)


def init(impl, config: RopeConfig, seq_len: int | None = None):
    fn = impl.ROPE_INIT_FUNCTIONS[config.rope_type]
    cfg = impl_rope_config(impl, config)
    nested = {"layer_type": config.layer_type} if config.layer_type else {}
    if seq_len is None:
        return fn(cfg, runtime.device(), **nested)
    return fn(cfg, runtime.device(), seq_len=seq_len, **nested)


def available(impl, types=ROPE_TYPES) -> tuple[str, ...]:
    """The RoPE types of ``types`` the implementation has (4.57 has no proportional); a skip when none."""
    found = tuple(t for t in types if t in impl.ROPE_INIT_FUNCTIONS)
    if not found:
        missing(f"ROPE_INIT_FUNCTIONS[{types[0]!r}]", impl)
    return found


def leavable(impl, config: RopeConfig) -> list[str]:
    """The optional keys of ``config`` the implementation's config form can leave out (its ``rope_config``
    hook may decline: 4.57 requires llama3's ``original_max_position_embeddings``)."""
    form = impl.hook("rope_config", RopeConfig.namespace)
    return [key for key in optional_keys(config) if form(config.without(key)) is not None]


def call_of(config: RopeConfig, seq_len=None) -> str:
    return f"ROPE_INIT_FUNCTIONS[{config.rope_type!r}](config, seq_len={seq_len}) with {config}"


def pinned_examples(**fixed):
    """Explicit examples ``data=None, pinned=0 .. PINNED_CASES - 1`` (with ``fixed`` for the property's other
    arguments): a property over one RoPE type runs each of the type's pinned configs and lengths
    (:func:`~layer_conformance.strategies.rope.pinned_case`), which reach every regime it declares."""
    return examples(*({"data": None, "pinned": index, **fixed} for index in range(PINNED_CASES)))


@pytest.mark.parametrize("rope_type", TYPES)
@given(data=st.data(), pinned=st.just(None))
@pinned_examples()
def test_init_function_matches_float64_formula(impl, rope_type, data, pinned):
    """Each init function returns float32 inverse frequencies (``dim // 2`` of them, ``dim = head_dim *
    partial_rotary_factor``; ``head_dim // 2`` for proportional) and the attention scaling of its
    documented formula: default ``1 / theta ** (2i / dim)``; linear divided by factor; dynamic with the
    base rescaled for the sequence length; yarn's ramp between the beta bounds and mscale; llama3's
    wavelength bands and smoothing; longrope's short or long factors and attention factor; proportional
    ``1 / theta ** (2i / head_dim) / factor`` for the first ``floor(partial_rotary_factor * head_dim /
    2)`` pairs and 0 for the others.  (A scaling returned as a tensor is held to its dtype's precision.)"""
    if rope_type not in impl.ROPE_INIT_FUNCTIONS:
        missing(f"ROPE_INIT_FUNCTIONS[{rope_type!r}]", impl)
    with_length = rope_type in ("dynamic", "longrope")
    if data is None:  # an explicit example: a pinned config (and length) of this type, if any left
        case = pinned_case(rope_type, pinned, seq_len=with_length)
        if case is None:
            return
        config, seq_len = case
    else:
        config = data.draw(rope_configs(types=(rope_type,)), label="config")
        seq_len = data.draw(seq_lens(config), label="seq_len") if with_length else None
    call = call_of(config, seq_len)
    result = init(impl, config, seq_len)
    assert isinstance(result, tuple) and len(result) == 2, (
        f"returned {type(result).__name__}, but should return (inv_freq, attention_scaling) [{call}]"
    )
    inv_freq, scaling = as_tensor_result(result[0], what="inv_freq", call=call), result[1]
    expected, expected_scaling = formula(config, seq_len)
    assert_equal(inv_freq.dtype, torch.float32, what="inv_freq dtype", call=call)
    assert_equal(tuple(inv_freq.shape), (config.frequencies,), what="inv_freq shape", call=call)
    assert_close(
        inv_freq.double().cpu(),
        torch.tensor(expected, dtype=torch.float64),
        kind="rope_init",
        dtype=torch.float32,
        what="inv_freq vs float64 formula",
        call=call,
    )
    assert scaling_close(scaling, expected_scaling), (
        f"attention scaling {float(scaling)!r}, but should be {expected_scaling!r} [{call}]"
    )


@pytest.mark.parametrize("rope_type", TYPES)
@given(data=st.data(), pinned=st.just(None))
@pinned_examples()
def test_init_function_matches_reference(impl, rope_type, data, pinned):
    """Differential: the inverse frequencies and attention scaling equal the reference's."""
    if rope_type not in impl.ROPE_INIT_FUNCTIONS:
        missing(f"ROPE_INIT_FUNCTIONS[{rope_type!r}]", impl)
    if data is None:
        case = pinned_case(rope_type, pinned, seq_len=True)
        if case is None:
            return
        config, seq_len = case
    else:
        config = data.draw(rope_configs(types=(rope_type,)), label="config")
        seq_len = data.draw(seq_lens(config), label="seq_len")
    inv_freq, scaling = init(impl, config, seq_len)
    ref, ref_scaling = init(REFERENCE, config, seq_len)
    call = call_of(config, seq_len)
    assert_close(inv_freq.cpu(), ref.cpu(), kind="rope_init", what="inv_freq vs reference", call=call)
    assert scaling_close(scaling, float(ref_scaling)), (
        f"attention scaling {float(scaling)!r}, reference {float(ref_scaling)!r} [{call}]"
    )


#: Pinned by an explicit example: a YaRN option other than the base factors (truncate=False).
YARN_WITHOUT_TRUNCATION = RopeConfig(
    "yarn",
    10000.0,
    head_dim=6,
    max_position_embeddings=4,
    params=(("factor", 2.0), ("original_max_position_embeddings", 2), ("truncate", False)),
)


@pytest.mark.parametrize("rope_type", TYPES)
@given(data=st.data(), layer_type=st.sampled_from(LAYER_TYPES), pinned=st.just(None))
@example(data=None, layer_type="full_attention", pinned=None)  # YARN_WITHOUT_TRUNCATION
@pinned_examples(layer_type="sliding_attention")
def test_parameters_nested_by_layer_type_equal_flat(impl, rope_type, data, layer_type, pinned):
    """When a model gives each layer type its own RoPE (``rope_parameters`` nested by layer type, the
    config listing ``layer_types``), the init function called with ``layer_type=`` reads every parameter
    from that layer type's dict: the result equals the flat config's.  (Implementations whose init
    functions take no ``layer_type`` -- transformers 4.57 -- have no such form.)"""
    if rope_type not in impl.ROPE_INIT_FUNCTIONS:
        missing(f"ROPE_INIT_FUNCTIONS[{rope_type!r}]", impl)
    fn = impl.ROPE_INIT_FUNCTIONS[rope_type]
    if "layer_type" not in inspect.signature(fn).parameters:
        missing(f"ROPE_INIT_FUNCTIONS[{rope_type!r}](layer_type)", impl)
    if data is None and pinned is not None:
        case = pinned_case(rope_type, pinned)
        if case is None:
            return
        config, seq_len = case
    elif data is None:
        if rope_type != "yarn":
            return
        config, seq_len = YARN_WITHOUT_TRUNCATION, None
    else:
        config = data.draw(rope_configs(types=(rope_type,)), label="config")
        seq_len = data.draw(st.one_of(st.none(), st.integers(1, 3 * config.max_position_embeddings)), label="seq_len")
    flat, flat_scaling = init(impl, config, seq_len)
    nested_config = dataclasses.replace(config, layer_type=layer_type)
    nested, scaling = fn(
        impl_rope_config(impl, nested_config), runtime.device(), seq_len=seq_len, layer_type=layer_type
    )
    call = f"ROPE_INIT_FUNCTIONS[{rope_type!r}](config nested under {layer_type!r}, seq_len={seq_len}, layer_type={layer_type!r}) with {config}"
    assert_close(nested.cpu(), flat.cpu(), kind="exact", what="inv_freq nested vs flat", call=call)
    assert float(scaling) == float(flat_scaling), f"attention scaling {scaling} nested, {flat_scaling} flat [{call}]"


#: Pinned by an explicit example, per type: a config with each required parameter, from which the property
#: leaves out every key of ``DEFAULTS`` (longrope without an attention factor: its default then comes from
#: the factor the absent original length implies).
PLAIN_CONFIGS = {
    rope_type: RopeConfig(rope_type, 10000.0, head_dim=8, max_position_embeddings=16, params=tuple(sorted(params)))
    for rope_type, params in {
        "default": [],
        "linear": [("factor", 2.0)],
        "dynamic": [("factor", 2.0)],
        "yarn": [("factor", 2.0), ("original_max_position_embeddings", 8)],
        "longrope": [
            ("original_max_position_embeddings", 8),
            ("short_factor", (1.0, 1.25, 2.0, 3.5)),
            ("long_factor", (2.0, 2.0, 8.0, 1.0)),
        ],
        "llama3": [
            ("factor", 8.0),
            ("high_freq_factor", 4.0),
            ("low_freq_factor", 1.0),
            ("original_max_position_embeddings", 8),
        ],
        "proportional": [("factor", 2.0)],
    }.items()
}


@pytest.mark.parametrize("rope_type", TYPES)
@given(data=st.data(), pinned=st.just(None))
@example(data=None, pinned="plain")  # PLAIN_CONFIGS[rope_type], every optional key left out
@example(data=None, pinned=("plain", 0))  # the same at the length its type switches at (dynamic: the maximum;
@example(data=None, pinned=("plain", 1))  # longrope: the original) and one past it
@pinned_examples()  # the type's pinned configs and lengths, every optional key left out
def test_absent_optional_keys_take_their_documented_defaults(impl, rope_type, data, pinned):
    """An optional key left out of ``rope_parameters`` takes its documented default: the inverse frequencies
    and attention scaling equal those of the same config with the key written out at that default --
    ``partial_rotary_factor`` 1.0; ``original_max_position_embeddings`` (yarn, longrope, llama3) the config's
    ``max_position_embeddings``; YaRN's ``beta_fast`` 32, ``beta_slow`` 1 and ``truncate`` True;
    proportional's ``factor`` 1.0."""
    if rope_type not in impl.ROPE_INIT_FUNCTIONS:
        missing(f"ROPE_INIT_FUNCTIONS[{rope_type!r}]", impl)
    # a type without optional keys of its own has only partial_rotary_factor to leave out: at 1.0
    partial_rotary = bool(DEFAULTS.get(rope_type))
    with_length = rope_type in ("dynamic", "longrope")
    if data is None:
        if isinstance(pinned, int):
            case = pinned_case(rope_type, pinned, seq_len=with_length, partial_rotary=partial_rotary)
            if case is None:
                return
            config, seq_len = case
        else:
            config, seq_len = PLAIN_CONFIGS[rope_type], None
            label_config(config, partial_rotary=partial_rotary)
            if isinstance(pinned, tuple):
                seq_len = pinned_seq_len(config, pinned[1])
                if seq_len is None:
                    return
        absent = tuple(leavable(impl, config))
        if not absent:
            return
    else:
        config = data.draw(rope_configs(types=(rope_type,), partial_rotary=partial_rotary), label="config")
        if not leavable(impl, config) and rope_type != "longrope":  # then partial_rotary_factor is left out
            config = dataclasses.replace(config, partial_rotary_factor=1.0)
        keys = leavable(impl, config)
        assume(keys)
        absent = data.draw(absent_keys(keys), label="absent keys")
        seq_len = data.draw(seq_lens(config), label="seq_len") if with_length else None
    written = config.with_params(**{key: documented_default(config, key) for key in absent})
    left_out = written.without(*absent)
    inv_freq, scaling = init(impl, left_out, seq_len)
    expected, expected_scaling = init(impl, written, seq_len)
    call = f"{call_of(left_out, seq_len)} (absent: {', '.join(absent)}) vs the defaults written out"
    assert_close(inv_freq.cpu(), expected.cpu(), kind="exact", what="inv_freq with absent keys", call=call)
    assert float(scaling) == float(expected_scaling), (
        f"attention scaling {float(scaling)!r} with the keys absent, {float(expected_scaling)!r} with their "
        f"defaults written out [{call}]"
    )


@given(config=rope_configs(types=("proportional",)), head_dim=st.sampled_from([2, 4, 6, 8, 12, 16]))
@example(config=PINNED_CONFIGS["proportional"][0], head_dim=12)
@example(config=PINNED_CONFIGS["proportional"][1], head_dim=6)
def test_proportional_reads_the_head_dim_named_by_head_dim_key(impl, config, head_dim):
    """proportional reads the head dim from the config attribute ``head_dim_key`` names (``head_dim`` by
    default): with ``head_dim_key="global_head_dim"`` and ``config.global_head_dim = d`` the result is that of
    the same config with head dim ``d``; when the config has no such attribute, the head dim is
    ``hidden_size // num_attention_heads``."""
    if "proportional" not in impl.ROPE_INIT_FUNCTIONS:
        missing("ROPE_INIT_FUNCTIONS['proportional']", impl)
    fn = impl.ROPE_INIT_FUNCTIONS["proportional"]
    if "head_dim_key" not in inspect.signature(fn).parameters:
        missing("ROPE_INIT_FUNCTIONS['proportional'](head_dim_key)", impl)
    label_config(config)  # a drawn config: labelled twice, counted once
    cfg = impl_rope_config(impl, config)
    cfg.global_head_dim = head_dim
    plain, _ = fn(cfg, runtime.device())
    call = f"ROPE_INIT_FUNCTIONS['proportional'](config with global_head_dim={head_dim}) with {config}"
    expected, _ = init(impl, config)
    assert_close(plain.cpu(), expected.cpu(), kind="exact", what="inv_freq without head_dim_key", call=call)
    inv_freq, scaling = fn(cfg, runtime.device(), head_dim_key="global_head_dim")
    expected, _ = init(impl, dataclasses.replace(config, head_dim=head_dim, derive_head_dim=False))
    call = f"ROPE_INIT_FUNCTIONS['proportional'](config with global_head_dim={head_dim}, head_dim_key='global_head_dim') with {config}"
    assert_close(inv_freq.cpu(), expected.cpu(), kind="exact", what="inv_freq vs head_dim of that value", call=call)
    assert float(scaling) == 1.0, f"attention scaling {scaling}, but should be 1.0 [{call}]"
    cfg = impl_rope_config(impl, config)
    cfg.head_dim = head_dim  # not read: head_dim_key names another attribute
    derived, _ = fn(cfg, runtime.device(), head_dim_key="no_such_attribute")
    expected, _ = init(impl, dataclasses.replace(config, derive_head_dim=True))
    call = f"ROPE_INIT_FUNCTIONS['proportional'](config with head_dim={head_dim}, head_dim_key='no_such_attribute') with {config}"
    assert_close(derived.cpu(), expected.cpu(), kind="exact", what="inv_freq vs hidden_size // heads", call=call)


# --------------------------------------------------------------------------- the decorator


def every_type(dtype_in_turn: tuple[torch.dtype, ...] = (), **fixed):
    """Explicit examples ``data=None, pinned=<type>`` for every RoPE type, and one ``pinned="partial"``: the
    property runs each type's config of :data:`EVERY_TYPE_CONFIGS` when the implementation has it, with
    fixed choices for what it would draw, so that a property drawing among the types runs each of them,
    and each regime of every type, in every run.  With ``dtype_in_turn`` the examples take those dtypes in
    turn (the property labels them and skips an unselected one), so that a property drawing dtypes runs
    each of them in every run too."""
    names = (*ROPE_TYPES, "partial")
    turns = [{"dtype": dtype_in_turn[i % len(dtype_in_turn)]} if dtype_in_turn else {} for i in range(len(names))]
    return examples(*({"data": None, "pinned": n, **fixed, **t} for n, t in zip(names, turns, strict=True)))


#: The configs of :func:`every_type`'s examples: each type's plain config, its head dim derived from
#: ``hidden_size // heads`` for every other type and given other than that for the rest (neither changes
#: the frequencies), and (``"partial"``) default's pinned config with a partial rotary factor.
EVERY_TYPE_CONFIGS = {
    **{
        rope_type: dataclasses.replace(
            PLAIN_CONFIGS[rope_type],
            derive_head_dim=i % 2 == 0,
            model_size=None if i % 2 == 0 else (PLAIN_CONFIGS[rope_type].head_dim + 2) * 2,
        )
        for i, rope_type in enumerate(ROPE_TYPES)
    },
    "partial": PINNED_CONFIGS["default"][1],
}


def config_of(impl, data, pinned: str | None, types: tuple[str, ...]) -> RopeConfig:
    """The drawn config, or the pinned example's config (labelled like a drawn one); a pinned type the
    property does not cover or the implementation lacks ends the example."""
    if data is not None:
        return data.draw(rope_configs(types=types), label="config")
    config = EVERY_TYPE_CONFIGS[pinned]
    if config.rope_type not in types:
        raise _Skip
    return label_config(config, types)


class _Skip(Exception):
    """A pinned example that does not apply to this property or implementation."""


def _positions(length: int, batch: int = 1) -> torch.Tensor:
    return torch.arange(length, device=runtime.device()).expand(batch, length)


def _forward(module, length: int, dtype=torch.float32):
    x = torch.zeros(1, device=runtime.device(), dtype=dtype)
    return module(x, _positions(length))


#: The regimes of a sequence of dynamic forwards (labelled values: ``(kind of step, index)``).
DYNAMIC_STEPS = Regimes(
    "dynamic forwards",
    {
        "growth past the cached length": lambda s: s[0] == "grow",
        "a forward at the cached length": lambda s: s[0] == "at",
        "a forward within the cache, past the original maximum": lambda s: s[0] == "within",
        "a reset below the original maximum": lambda s: s[0] == "reset",
        "a short forward, nothing to reset": lambda s: s[0] == "short",
        "growth again after a reset": lambda s: s[0] == "regrow",
    },
)

#: Pinned by an explicit example: every kind of dynamic forward in one sequence, on a plain config.
DYNAMIC_LENGTHS = (20, 20, 18, 5, 3, 17, 16, 16)


@requires("dynamic_rope_update")
@given(config=rope_configs(types=("dynamic",)), data=st.data())
@example(config=dataclasses.replace(PLAIN_CONFIGS["dynamic"], max_position_embeddings=16), data=None)
@example(config=PINNED_CONFIGS["dynamic"][0], data=None)
@example(config=PINNED_CONFIGS["dynamic"][1], data=None)
def test_dynamic_ntk_grows_and_resets(impl, config, data):
    """Dynamic NTK, as a state machine over forwards of drawn sequence lengths: a forward longer than
    ``max_seq_len_cached`` grows it, ``inv_freq`` becoming the init function recomputed at that length;
    after growth, a forward shorter than the original maximum resets to ``original_inv_freq`` and the
    original maximum; any other forward (within the cached length, the cached length itself included)
    leaves ``inv_freq`` untouched, the same buffer, which stays out of the state_dict (non-persistent).
    The state after any sequence of forwards is that of the model."""
    module = rotary_module(impl, config, runtime.device())
    original = module.inv_freq.clone()
    max_pos = config.max_position_embeddings
    if data is None:  # an explicit example (maximum 16): labelled as a drawn config
        label_config(config)
        steps = list(DYNAMIC_LENGTHS)
    else:
        steps = data.draw(
            st.lists(
                st.integers(1, 3 * max_pos) | st.sampled_from([max_pos, max_pos + 1, max_pos - 1]),
                min_size=1,
                max_size=6,
            ),
            label="lengths",
        )
    cached, expected, reset = max_pos, original, False
    for step, length in enumerate(steps):
        changes = length > cached or (length < max_pos and cached > max_pos)
        kind = (
            ("regrow" if reset else "grow")
            if length > cached
            else "at"
            if length == cached
            else "reset"
            if changes
            else "within"
            if length >= max_pos
            else "short"
        )
        DYNAMIC_STEPS.label((kind, step))
        reset = reset or kind == "reset"
        if length > cached:
            expected, _ = init(impl, config, length)
            cached = length
        elif length < max_pos and cached > max_pos:
            expected, cached = original, max_pos
        buffer = module.inv_freq.data_ptr()
        _forward(module, length)
        call = f"forwards of lengths {steps[: step + 1]} on {config}"
        assert_equal(int(module.max_seq_len_cached), cached, what="max_seq_len_cached", call=call)
        assert_close(module.inv_freq.cpu(), expected.cpu(), kind="rope_init", what="inv_freq", call=call)
        assert "inv_freq" not in module.state_dict(), f"inv_freq became a persistent buffer (in state_dict) [{call}]"
        if not changes:
            assert module.inv_freq.data_ptr() == buffer, (
                f"inv_freq was recomputed although length {length} neither grows past {cached} nor resets [{call}]"
            )


@requires("dynamic_rope_update")
@given(config=rope_configs(types=("longrope",)), data=st.data())
@example(config=PINNED_CONFIGS["longrope"][0], data=None)
@example(config=PINNED_CONFIGS["longrope"][1], data=None)
def test_longrope_switches_factors_at_the_original_maximum(impl, config, data):
    """longrope uses the long factors exactly when the largest position + 1 exceeds
    ``original_max_position_embeddings`` (the boundary itself is short), the short factors otherwise;
    switching back and forth is reversible; ``inv_freq`` stays a non-persistent buffer."""
    module = rotary_module(impl, config, runtime.device())
    original = config.param("original_max_position_embeddings")
    short, _ = init(impl, config)
    long, _ = init(impl, config, original + 1)
    if data is None:  # an explicit example: labelled as a drawn config; to the long factors and back
        label_config(config)
        steps = [original, original + 1, 1, original + 1, original]
    else:
        steps = data.draw(
            st.lists(
                st.sampled_from([original, original + 1, 1]) | st.integers(1, 2 * config.max_position_embeddings),
                min_size=1,
                max_size=6,
            ),
            label="lengths",
        )
    for step, length in enumerate(steps):
        _forward(module, length)
        expected = long if length > original else short
        call = f"forwards of lengths {steps[: step + 1]} on {config}"
        assert_close(module.inv_freq.cpu(), expected.cpu(), kind="rope_init", what="inv_freq", call=call)
        assert "inv_freq" not in module.state_dict(), f"inv_freq became a persistent buffer (in state_dict) [{call}]"


#: The regimes of forwards through a module giving each layer type its own dynamic RoPE (labelled values:
#: ``(kind of step, index)``): each layer type's state must move alone.
LAYERED_STEPS = Regimes(
    "dynamic forwards per layer type",
    {
        "growth of one layer type past the other's cached length": lambda s: s[0] == "grow past",
        "growth of one layer type to a length the other has already cached": lambda s: s[0] == "grow within",
        "a forward within one layer type's cache, past the other's": lambda s: s[0] == "within past",
        "a reset of one layer type while the other stays grown": lambda s: s[0] == "reset beside",
        "a reset of one layer type while the other is at its original": lambda s: s[0] == "reset alone",
    },
)


def layered_lengths(max_pos: int) -> list[tuple[str, int]]:
    """Pinned by the explicit examples: forwards (layer type, length) reaching every regime of
    :data:`LAYERED_STEPS` for a maximum of ``max_pos``, alternating the layer types."""
    return [
        ("full_attention", max_pos + 4),
        ("sliding_attention", max_pos + 2),
        ("sliding_attention", max_pos + 8),
        ("full_attention", 1),
        ("sliding_attention", max_pos + 6),
        ("sliding_attention", 1),
        ("full_attention", max_pos + 1),
    ]


#: The other layer type's parameters in the explicit examples: dynamic too, with its own factor and base.
LAYERED_OTHER = (("factor", 3.0), ("rope_theta", 500.0), ("rope_type", "dynamic"))
#: The configs of the explicit examples, nested: the plain dynamic config, with a wider model (its head dim
#: other than ``hidden_size // heads``), and the pinned ones that rotate the whole head.
LAYERED_CONFIGS = tuple(
    dataclasses.replace(config, layer_type="full_attention", other=LAYERED_OTHER)
    for config in (
        PLAIN_CONFIGS["dynamic"],
        dataclasses.replace(PLAIN_CONFIGS["dynamic"], model_size=(PLAIN_CONFIGS["dynamic"].head_dim + 2) * 2),
        *PINNED_CONFIGS["dynamic"],
    )
    if config.partial_rotary_factor == 1.0
)


def _takes_layer_type(impl) -> bool:
    """The decorated forward accepts ``layer_type`` (5.x); 4.57's takes ``(self, x, position_ids)``."""

    def forward(self, x, position_ids, layer_type=None):  # pragma: no cover - only its signature is read
        return x

    params = inspect.signature(impl.dynamic_rope_update(forward), follow_wrapped=False).parameters
    kinds = {p.kind for p in params.values()}
    return "layer_type" in params or inspect.Parameter.VAR_KEYWORD in kinds


@requires("dynamic_rope_update")
@given(config=rope_configs(types=("dynamic",), partial_rotary=False), data=st.data())
@examples(*({"config": config, "data": None} for config in LAYERED_CONFIGS))
def test_dynamic_ntk_grows_and_resets_per_layer_type(impl, config, data):
    """A model giving each layer type its own RoPE (``rope_parameters`` nested by layer type, Gemma 3 style)
    calls the decorated forward with ``layer_type=``: the decorator keeps each layer type's state apart
    (``<layer_type>_inv_freq``, ``<layer_type>_original_inv_freq``, ``<layer_type>_max_seq_len_cached``,
    the latter starting from the module's ``max_seq_len_cached``) and passes ``layer_type`` on to the
    forward.  With both layer types dynamic, each one's state follows the dynamic NTK state machine of its
    own forwards alone: growing past its own cached length recomputes its frequencies from its own
    parameters at that length, a reset brings back its own original frequencies, and a forward of one
    layer type leaves the other's frequencies untouched, the same buffer.  (A decorator whose forward
    takes no ``layer_type`` -- transformers 4.x -- has no such form.)"""
    if not _takes_layer_type(impl):
        missing("dynamic_rope_update(layer_type)", impl)
    if "layer_type" not in inspect.signature(impl.ROPE_INIT_FUNCTIONS["dynamic"]).parameters:
        missing("ROPE_INIT_FUNCTIONS['dynamic'](layer_type)", impl)
    max_pos = config.max_position_embeddings
    if data is None:  # an explicit example: labelled as a drawn config
        label_config(config, partial_rotary=False)
        steps = layered_lengths(max_pos)
    else:
        layer_type = data.draw(st.sampled_from(LAYER_TYPES), label="layer_type")
        factor = data.draw(st.sampled_from([1.5, 3.0, 8.0]), label="other factor")
        theta = data.draw(st.sampled_from([500.0, 10000.0, 1e6]), label="other rope_theta")
        other = (("factor", factor), ("rope_theta", theta), ("rope_type", "dynamic"))
        config = dataclasses.replace(config, layer_type=layer_type, other=other)
        steps = data.draw(
            st.lists(
                st.tuples(
                    st.sampled_from(LAYER_TYPES),
                    st.integers(1, 3 * max_pos) | st.sampled_from([max_pos, max_pos + 1, max_pos - 1]),
                ),
                min_size=2,
                max_size=8,
            ),
            label="forwards",
        )
    module = layered_rotary_module(impl, config, runtime.device())
    views = {view.layer_type: view for view in (config, config.mirrored())}
    originals = {name: init(impl, view)[0] for name, view in views.items()}
    cached = dict.fromkeys(views, max_pos)
    expected = dict(originals)
    for step, (layer_type, length) in enumerate(steps):
        other = next(name for name in views if name != layer_type)
        mine, theirs = cached[layer_type], cached[other]
        if length > mine:
            kind = "grow past" if length > theirs else "grow within"
            expected[layer_type], _ = init(impl, views[layer_type], length)
            cached[layer_type] = length
        elif length < max_pos and mine > max_pos:
            kind = "reset beside" if theirs > max_pos else "reset alone"
            expected[layer_type], cached[layer_type] = originals[layer_type], max_pos
        else:
            kind = "within past" if length > theirs else "unchanged"
        LAYERED_STEPS.label((kind, step))
        buffer = getattr(module, f"{other}_inv_freq").data_ptr()
        x = torch.zeros(1, device=runtime.device())
        module(x, _positions(length), layer_type)
        call = f"forwards (layer type, length) {steps[: step + 1]} on {config}"
        assert module.forward_calls[-1] == layer_type, (
            f"the forward got layer_type={module.forward_calls[-1]!r}, not {layer_type!r} [{call}]"
        )
        for name in views:
            state = getattr(module, f"{name}_max_seq_len_cached", module.max_seq_len_cached)
            assert_equal(int(state), cached[name], what=f"{name}_max_seq_len_cached", call=call)
            freqs = getattr(module, f"{name}_inv_freq")
            assert_close(freqs.cpu(), expected[name].cpu(), kind="rope_init", what=f"{name}_inv_freq", call=call)
        assert getattr(module, f"{other}_inv_freq").data_ptr() == buffer, (
            f"a forward of layer type {layer_type!r} replaced {other}_inv_freq [{call}]"
        )


@requires("dynamic_rope_update")
@given(data=st.data(), pinned=st.just(None))
@every_type()
def test_decorator_changes_nothing_for_other_types(impl, data, pinned):
    """For default, linear, yarn, llama3 and proportional, the decorated forward equals the undecorated one and never
    changes ``inv_freq`` or ``max_seq_len_cached``, whatever the sequence lengths."""
    try:
        config = config_of(impl, data, pinned, available(impl, STATIC_TYPES))
    except _Skip:
        return
    module = rotary_module(impl, config, runtime.device())
    before = module.inv_freq.clone()
    if data is None:
        steps = [1, 2 * config.max_position_embeddings + 1, config.max_position_embeddings]
    else:
        steps = data.draw(
            st.lists(st.integers(1, 3 * config.max_position_embeddings), min_size=1, max_size=4), label="lengths"
        )
    for length in steps:
        x = torch.zeros(1, device=runtime.device())
        cos, sin = module(x, _positions(length))
        cos_u, sin_u = module.undecorated_forward(x, _positions(length))
        call = f"forward of length {length} on {config}"
        assert_equal(cos, cos_u, what="cos vs undecorated", call=call)
        assert_equal(sin, sin_u, what="sin vs undecorated", call=call)
        assert_equal(module.inv_freq, before, what="inv_freq", call=call)
        assert_equal(
            int(module.max_seq_len_cached), config.max_position_embeddings, what="max_seq_len_cached", call=call
        )


@requires("dynamic_rope_update")
@given(
    batch=st.integers(1, 3),
    length=st.integers(1, 8),
    dtype=dtypes(allow_half=True, allow_float64=True),
    data=st.data(),
    pinned=st.just(None),
)
@every_type(batch=2, length=5, dtype_in_turn=(torch.float32, torch.float16, torch.bfloat16, torch.float64))
def test_cos_sin_follow_the_definition(impl, batch, length, dtype, data, pinned):
    """The forward's cos/sin are ``cos(position * inv_freq)`` and ``sin(...)`` of the current frequencies
    (repeated twice along the last dim) times ``attention_scaling``: shape [batch, seq, dim], the input's
    dtype and device; the decorator hands the inputs through unchanged.  Batch rows with different
    position ids are independent when the frequencies do not depend on the call."""
    try:
        config = config_of(impl, data, pinned, available(impl))
    except _Skip:
        return
    if data is None and not pinned_dtype(dtype):  # an explicit example: its dtype bypassed dtypes()
        return
    module = rotary_module(impl, config, runtime.device())
    if data is None:  # a long row and a short one: the dynamic types grow, the batch rows differ
        pos = torch.tensor([[0, 1, 2, 3, 2 * config.max_position_embeddings], [3, 4, 5, 6, 7]][:batch])
    else:
        pos = data.draw(
            position_ids(batch=batch, length=length, max_position=3 * config.max_position_embeddings),
            label="position_ids",
        )
    pos = pos.to(runtime.device())
    x = make_tensor((batch, length, config.head_dim), 0, dtype, runtime.device())
    cos, sin = module(x, pos)
    call = f"forward(x {dtype}, position_ids {pos.tolist()}) on {config}"
    assert_equal(tuple(cos.shape), (batch, length, 2 * config.frequencies), what="cos shape", call=call)
    assert_equal((cos.dtype, sin.dtype), (dtype, dtype), what="cos/sin dtype", call=call)
    assert_equal(cos.device, x.device, what="cos device", call=call)
    angles = pos.double()[..., None] * module.inv_freq.double()
    angles = torch.cat((angles, angles), dim=-1)
    scale = float(module.attention_scaling)
    # the angles are computed in float32: their rounding moves cos/sin by up to |angle| * 2**-24
    tol = tolerance("rope_cos", dtype, runtime.device()).plus(float32_angle_error(angles.abs().max()) * abs(scale))
    assert_close(cos.double(), angles.cos() * scale, kind=tol, what="cos", call=call)
    assert_close(sin.double(), angles.sin() * scale, kind=tol, what="sin", call=call)
    if config.rope_type in STATIC_TYPES and batch > 1:
        for b in range(batch):
            cos_b, _ = module(x[b : b + 1], pos[b : b + 1])
            assert_equal(cos_b[0], cos[b], what=f"row {b} alone vs in the batch", call=call)


LAYOUTS = [pytest.param(False, id="half"), pytest.param(True, id="interleaved")]
#: The dtypes the explicit examples of the rotation take in turn.
ROTATION_DTYPES = (torch.float32, torch.float16, torch.bfloat16, torch.float64)


@requires("rotary_embedding")
@pytest.mark.parametrize("interleaved", LAYOUTS)
@pytest.mark.parametrize("rope_type", TYPES)
@given(
    batch=st.integers(1, 3),
    length=st.integers(1, 8),
    kv_heads=st.integers(1, 2),
    groups=st.integers(1, 2),
    dtype=dtypes(allow_half=True, allow_float64=True),
    data=st.data(),
    pinned=st.just(None),
)
@examples(
    *(
        {"data": None, "pinned": i, "batch": 1, "length": 5, "kv_heads": 2, "groups": 2, "dtype": dtype}
        for i, dtype in zip(range(PINNED_CASES), itertools.cycle(ROTATION_DTYPES))
    )
)
def test_rotation_matches_the_float64_definition(
    impl, rope_type, interleaved, batch, length, kv_heads, groups, dtype, data, pinned
):
    """``rotary_embedding(config, query, key, position_ids, interleaved)`` rotates the first ``2n`` features of
    every head in pairs -- ``(i, i + n)`` in the half layout, ``(2i, 2i + 1)`` interleaved -- by the angles
    ``position * inv_freq`` of the config's documented frequencies for the sequence length
    ``max(position_ids) + 1``, cos and sin times its attention scaling, and passes the other features through
    unchanged; query and key (each with its own number of heads) alike, in their shape and dtype; the inputs
    are left as they were."""
    if rope_type not in impl.ROPE_INIT_FUNCTIONS:
        missing(f"ROPE_INIT_FUNCTIONS[{rope_type!r}]", impl)
    device = runtime.device()
    if data is None:  # an explicit example: a pinned config and length of this type, if any left
        if not pinned_dtype(dtype):
            return
        case = pinned_case(rope_type, pinned, seq_len=True)
        if case is None:
            return
        config, seq_len = case
        end = seq_len or length
        pos = torch.arange(max(0, end - length), end)[None]
    else:
        config = data.draw(rope_configs(types=(rope_type,)), label="config")
        # within the maximum as often as past it (where the dynamic types grow and a server may stop)
        reach = data.draw(st.sampled_from([1, 3]), label="positions up to x max_position_embeddings")
        pos = data.draw(
            position_ids(batch=batch, length=length, max_position=reach * config.max_position_embeddings),
            label="position_ids",
        )
    if not measured("rope_rotation", dtype, device):
        pytest.skip(f"no measured rope_rotation tolerance for {dtype} on {device.type} yet")
    pos = pos.to(device)
    heads = kv_heads * groups
    query = make_tensor((pos.shape[0], heads, pos.shape[1], config.head_dim), 1, dtype, device)
    key = make_tensor((pos.shape[0], kv_heads, pos.shape[1], config.head_dim), 2, dtype, device)
    call = (
        f"rotary_embedding(config, query {tuple(query.shape)} {dtype}, key {tuple(key.shape)}, position_ids "
        f"{pos.tolist()}, interleaved={interleaved}) with {config}"
    )
    out = call_unmutated(
        impl.rotary_embedding, impl_rope_config(impl, config), query, key, pos, interleaved=interleaved,
        what="rotary_embedding", call=call,
    )  # fmt: skip
    inv_freq, scaling = formula(config, int(pos.max()) + 1)
    for name, x, y in (("query", query, out[0]), ("key", key, out[1])):
        y = as_tensor_result(y, what=f"rotated {name}", call=call)
        assert_equal(
            (tuple(y.shape), y.dtype), (tuple(x.shape), x.dtype), what=f"rotated {name} shape, dtype", call=call
        )
        expected, dim, largest = rotation_definition(config, x, pos, interleaved)
        # beyond the measured arithmetic of the rotation: the angles are float32 (|angle| * 2**-23 each) and the
        # frequencies float32 within rope_init's tolerance (times the position); cos and sin are 1-Lipschitz,
        # and each output feature takes two of them, times |x| and the scaling
        init_tol = tolerance("rope_init", torch.float32, device)
        frequency = int(pos.max()) * (init_tol.atol + init_tol.rtol * max(inv_freq, default=0.0))
        room = (float32_angle_error(largest) + frequency) * abs(scaling) * 2 * float(x.abs().max())
        tol = tolerance("rope_rotation", dtype, device).plus(room)
        what = f"rotated {name}"
        assert_close(y[..., :dim].double(), expected[..., :dim], kind=tol, what=what, call=call)
        assert_equal(y[..., dim:], x[..., dim:], what=f"{name} features past the rotated {dim}", call=call)


def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotary embedding of x (last dim = rotary dim): x * cos + rotate_half(x) * sin."""
    half = x.shape[-1] // 2
    return x * cos + torch.cat((-x[..., half:], x[..., :half]), dim=-1) * sin


@requires("dynamic_rope_update")
@given(
    data=st.data(),
    m=st.integers(0, 40),
    n=st.integers(0, 40),
    shift=st.integers(1, 40),
    seed=seeds(),
    pinned=st.just(None),
)
@every_type(m=3, n=11, shift=29, seed=0)
def test_attention_scores_depend_only_on_relative_position(impl, data, m, n, shift, seed, pinned):
    """With the rotary embedding applied to q and k, ``q_m . k_n`` depends only on ``m - n``: shifting both
    positions by the same amount keeps the score (float64 rotation from the module's frequencies, and the
    float32 forward within a measured tolerance)."""
    try:
        config = config_of(impl, data, pinned, available(impl))
    except _Skip:
        return
    module = rotary_module(impl, config, runtime.device())
    pos = torch.tensor([[m, n, m + shift, n + shift]], device=runtime.device())
    d = 2 * config.frequencies
    q = make_tensor((d,), seed, torch.float64, runtime.device())
    k = make_tensor((d,), seed + 1, torch.float64, runtime.device())
    x = torch.zeros(1, device=runtime.device(), dtype=torch.float32)
    cos, sin = module(x, pos)  # the call sets the frequencies (dynamic types)
    call = f"positions (m, n)=({m}, {n}) shifted by {shift} on {config}"
    note(call)
    angles = pos.double()[0, :, None] * module.inv_freq.double()
    angles = torch.cat((angles, angles), dim=-1)
    # the forward's angles are rounded to float32: each of the four rotations is off by up to
    # float32_angle_error, which moves a rotated vector by that times its norm
    angle_room = 4 * float(q.norm() * k.norm()) * float32_angle_error(angles.abs().max())
    for label, c, s, tol in (
        ("float64 rotation", angles.cos(), angles.sin(), tolerance("rope_relative_fp64", torch.float64, x.device)),
        (
            "forward's cos/sin",
            cos[0].double(),
            sin[0].double(),
            tolerance("rope_relative", torch.float64, x.device).plus(angle_room),
        ),
    ):
        rq = rotate(q, c[[0, 2]], s[[0, 2]])
        rk = rotate(k, c[[1, 3]], s[[1, 3]])
        scores = (rq * rk).sum(-1)  # [score(m, n), score(m + shift, n + shift)]
        assert_close(scores[1:], scores[:1], kind=tol, what=f"score after shift ({label})", call=call)


@requires("dynamic_rope_update")
def test_decorated_forward_keeps_its_name_and_doc(impl):
    """``dynamic_rope_update`` returns a forward that keeps the decorated function's name, docstring and
    signature (functools.wraps), so that introspection of the rotary module still sees its forward."""

    def forward(self, x, position_ids):
        """Rotary forward."""

    decorated = impl.dynamic_rope_update(forward)
    call = "dynamic_rope_update(forward)"
    assert_equal(decorated.__name__, "forward", what="__name__", call=call)
    assert_equal(decorated.__doc__, "Rotary forward.", what="__doc__", call=call)
    assert_equal(
        list(inspect.signature(decorated).parameters)[:3], ["self", "x", "position_ids"], what="parameters", call=call
    )
