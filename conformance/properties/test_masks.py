"""Mask functions, their algebra, and the mask builders sdpa_mask and eager_mask.

A mask function is a callable ``(batch_idx, head_idx, q_idx, kv_idx) -> bool``
that also works on broadcast index tensors; True means "attend".  Every
property compares with a brute-force truth table computed from the documented
definition in plain Python (:class:`layer_conformance.strategies.MaskSpec`).
"""

from __future__ import annotations

import inspect

import pytest
import torch
from hypothesis import example, given, note
from hypothesis import strategies as st

from layer_conformance import reference, runtime
from layer_conformance.missing import missing
from layer_conformance.strategies import (
    GEOMETRY_REGIMES,
    LIST_REGIMES,
    MASK_KINDS,
    Geometry,
    MaskSpec,
    attention_module,
    geometries,
    grid,
    make_tensor,
    mask_spec_lists,
    mask_specs,
    padding_rows,
    seeds,
    truth_table,
)
from layer_conformance.strategies.core import explicit
from layer_conformance.strategies.masks import PINNED_SPECS, SPEC_REGIMES, spec_regimes
from layer_conformance.strategies.regimes import Regimes
from layer_conformance.support.attention import builder_kwargs, builder_of, read_mask, running
from layer_conformance.support.checks import (
    as_tensor_result,
    assert_close,
    assert_equal,
    assert_raises,
    backend_property,
    requires,
)
from layer_conformance.support.masks import (
    CAUSAL_FAMILY,
    PHASES,
    available,
    draw_any_call,
    draw_case,
    expected_mask,
    honours_left_padding,
    mask_functions,
    pinned_examples,
    sdpa_is_causal_mask,
)

KINDS = [pytest.param(kind, marks=requires(name), id=kind) for kind, name in MASK_KINDS.items()]

lengths = st.integers(1, 6)
offsets = st.one_of(st.just(0), st.integers(0, 6))  # leaning towards 0: queries from the first key


def evaluate(fn, batch, heads, q_len, kv_len, q_offset=0, kv_offset=0) -> torch.Tensor:
    """A mask function on broadcast index tensors, expanded to [B, H, Q, KV] (on the CPU)."""
    out = torch.as_tensor(fn(*grid(batch, heads, q_len, kv_len, q_offset, kv_offset, device=runtime.device())))
    return out.expand(batch, heads, q_len, kv_len).cpu()


# --------------------------------------------------------------------------- mask functions


def _spec(data, kind, batch, kv_end):
    """A drawn spec of ``kind``, or, for the explicit examples (``data`` an index; batch 2, 4 keys), the
    pinned spec of that index (:data:`PINNED_SPECS`), labelled alike; None where the kind has fewer."""
    if not isinstance(data, int):
        return data.draw(mask_specs(batch=batch, kv_end=kv_end, kinds=[kind]), label="spec")
    specs = PINNED_SPECS.get(kind, (MaskSpec(kind),))
    if data >= len(specs):
        return None
    return SPEC_REGIMES.label((specs[data], kv_end), declared=spec_regimes([kind], kv_end))[0]


@pytest.mark.parametrize("kind", KINDS)
@given(
    data=st.data(),
    batch=st.integers(1, 3),
    heads=st.integers(1, 2),
    q_len=lengths,
    kv_len=lengths,
    q_offset=offsets,
    kv_offset=offsets,
)
@explicit(
    *({"data": i, "batch": 2, "heads": 1, "q_len": 4, "kv_len": 4, "q_offset": 0, "kv_offset": 0} for i in range(5))
)
def test_mask_function_truth_table(impl, kind, data, batch, heads, q_len, kv_len, q_offset, kv_offset):
    """Each mask function, evaluated on broadcast index tensors (with offsets), gives a bool tensor equal to
    its definition at every point: causal ``kv <= q``; bidirectional always; sliding window overlay
    ``kv > q - w`` (and causal); chunked ``(kv - lp[b]) // c == (q - lp[b]) // c`` (and causal); padding
    ``padding_mask[b, kv]``."""
    spec = _spec(data, kind, batch, kv_offset + kv_len)
    if spec is None:
        return
    out = evaluate(spec.build(impl, runtime.device()), batch, heads, q_len, kv_len, q_offset, kv_offset)
    call = f"{spec.call()} on a [{batch}, {heads}, {q_len}, {kv_len}] grid, q_offset={q_offset}, kv_offset={kv_offset}"
    assert_equal(out.dtype, torch.bool, what="mask dtype", call=call)
    expected = truth_table(spec.truth, batch, heads, q_len, kv_len, q_offset, kv_offset)
    assert_equal(out, expected, what="mask values", call=call)


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data(), batch=st.integers(1, 2), q_len=st.integers(1, 4), kv_len=st.integers(1, 4), q_offset=offsets)
@explicit(*({"data": i, "batch": 2, "q_len": 4, "kv_len": 4, "q_offset": 0} for i in range(5)))
def test_point_evaluation_agrees_with_broadcast_evaluation(impl, kind, data, batch, q_len, kv_len, q_offset):
    """A mask function used with index tensors equals evaluating it point by point (0-d index tensors)."""
    spec = _spec(data, kind, batch, kv_len)
    if spec is None:
        return
    fn = spec.build(impl, runtime.device())
    broadcast = evaluate(fn, batch, 1, q_len, kv_len, q_offset)
    dev = runtime.device()
    points = torch.tensor(
        [
            [
                [
                    bool(
                        fn(
                            torch.tensor(b, device=dev),
                            torch.tensor(0, device=dev),
                            torch.tensor(q_offset + i, device=dev),
                            torch.tensor(j, device=dev),
                        )
                    )
                    for j in range(kv_len)
                ]
                for i in range(q_len)
            ]
            for b in range(batch)
        ]
    ).unsqueeze(1)
    assert_equal(broadcast, points, what="broadcast vs point-by-point", call=f"{spec.call()}, q_offset={q_offset}")


#: The sliding window kinds of mask function.
SLIDING = ("sliding_window_causal", "sliding_window_overlay")


def _specs(data, impl, batch, kv_end, *, min_size=0, max_size=4):
    """Drawn mask specs, or, for the explicit examples (``data`` not a draw): ``None``, causal ones --
    ``min_size`` of them, or one; ``"none"``, none; ``"mixed"``, ``max(min_size, 3)`` of two kinds (causal and
    the first other kind the implementation has of bidirectional and the sliding windows)."""
    if data is None or isinstance(data, str):
        specs = [MaskSpec("causal")] * max(min_size, 1)
        if data == "none":
            specs = []
        elif data == "mixed":
            other = next((k for k in ("bidirectional", *SLIDING) if k in available(impl)), "causal")
            specs = [MaskSpec("causal"), MaskSpec(other, window=2 if other in SLIDING else 0)]
            specs += [MaskSpec("causal")] * (max(min_size, 3) - 2)
        return LIST_REGIMES.label(specs, declared=LIST_REGIMES.of(specs))
    kinds = available(impl)
    lists = mask_spec_lists(
        batch=batch, kv_end=kv_end, kinds=kinds, min_size=min_size, max_size=max_size,
        left_padding=honours_left_padding(impl),
    )  # fmt: skip
    return data.draw(lists, label="specs")


@requires("and_masks", "or_masks", "causal_mask_function")
@given(data=st.data(), batch=st.integers(1, 2), q_len=lengths, kv_len=lengths, q_offset=offsets)
@example(data=None, batch=1, q_len=2, kv_len=3, q_offset=0)  # one causal function on a grid it masks in part
@example(data="none", batch=1, q_len=2, kv_len=3, q_offset=0)  # no function: the identities
@example(data="mixed", batch=1, q_len=2, kv_len=3, q_offset=1)  # several, of two kinds
def test_and_or_masks_are_the_logical_and_or_of_truth_tables(impl, data, batch, q_len, kv_len, q_offset):
    """``and_masks(*fns)`` / ``or_masks(*fns)`` over any number of mask functions (none included) equal the
    elementwise and / or of their truth tables; the and of nothing is all True, the or of nothing all False."""
    specs = _specs(data, impl, batch, kv_len)
    fns = [s.build(impl, runtime.device()) for s in specs]
    shape = (batch, 1, q_len, kv_len)
    expected_and = torch.ones(shape, dtype=torch.bool)
    expected_or = torch.zeros(shape, dtype=torch.bool)
    for s in specs:
        t = truth_table(s.truth, batch, 1, q_len, kv_len, q_offset)
        expected_and &= t
        expected_or |= t
    calls = ", ".join(s.call() for s in specs)
    assert_equal(
        evaluate(impl.and_masks(*fns), *shape, q_offset), expected_and, what="and_masks", call=f"and_masks({calls})"
    )
    assert_equal(
        evaluate(impl.or_masks(*fns), *shape, q_offset), expected_or, what="or_masks", call=f"or_masks({calls})"
    )


def negate(fn):
    """The explicit negation helper of the algebra (not part of the contract)."""
    return lambda b, h, q, kv: ~torch.as_tensor(fn(b, h, q, kv))


@requires("and_masks", "or_masks", "causal_mask_function")
@given(data=st.data(), batch=st.integers(1, 2), q_len=lengths, kv_len=lengths, q_offset=offsets)
@example(data=None, batch=1, q_len=2, kv_len=3, q_offset=0)  # causal functions on a grid they mask in part
@example(data="mixed", batch=1, q_len=2, kv_len=3, q_offset=1)  # functions of two kinds
def test_mask_algebra_laws(impl, data, batch, q_len, kv_len, q_offset):
    """and/or are commutative and associative, ``and_masks(f)`` and ``or_masks(f)`` equal ``f``, the empty
    and/or are the identities (``and_masks(and_masks(), f) == f``, ``or_masks(or_masks(), f) == f``), and De
    Morgan holds: ``not and(f, g) == or(not f, not g)``."""
    f, g, h = (s.build(impl, runtime.device()) for s in _specs(data, impl, batch, kv_len, min_size=3, max_size=3))
    shape = (batch, 1, q_len, kv_len)

    def ev(fn):
        return evaluate(fn, *shape, q_offset)

    AND, OR = impl.and_masks, impl.or_masks
    laws = {
        "and commutative": (AND(f, g), AND(g, f)),
        "or commutative": (OR(f, g), OR(g, f)),
        "and associative": (AND(AND(f, g), h), AND(f, AND(g, h))),
        "or associative": (OR(OR(f, g), h), OR(f, OR(g, h))),
        "and of one": (AND(f), f),
        "or of one": (OR(f), f),
        "empty and is the identity of and": (AND(AND(), f), f),
        "empty or is the identity of or": (OR(OR(), f), f),
        "De Morgan (and)": (negate(AND(f, g)), OR(negate(f), negate(g))),
        "De Morgan (or)": (negate(OR(f, g)), AND(negate(f), negate(g))),
    }
    for law, (lhs, rhs) in laws.items():
        assert_equal(ev(lhs), ev(rhs), what=law, call=f"mask functions on a {list(shape)} grid, q_offset={q_offset}")


@requires("and_masks", "or_masks", "causal_mask_function")
@given(which=st.sampled_from(["and_masks", "or_masks"]), bad=st.sampled_from([3, None, "causal", torch.ones(1)]))
def test_non_callable_argument_is_an_error(impl, which, bad):
    """``and_masks`` / ``or_masks`` reject an argument that is not callable when they are built."""
    assert_raises(
        (TypeError, ValueError, RuntimeError),
        getattr(impl, which),
        impl.causal_mask_function,
        bad,
        what=f"{which} with a {type(bad).__name__} argument",
        call=f"{which}(causal_mask_function, {bad!r})",
    )


# --------------------------------------------------------------------------- builders


def at_head_zero(fn):
    """A custom mask function that also looks at the head index: builders evaluate head 0 only."""
    return lambda b, h, q, kv: torch.as_tensor(fn(b, h, q, kv)) & (h == 0)


@requires("sdpa_mask", "causal_mask_function")
@given(data=st.data(), head_aware=st.booleans())
@pinned_examples(any_call=True, head_aware=True)  # the pinned calls (ANY_PINNED)
def test_sdpa_mask_equals_truth_table(impl, data, head_aware):
    """Without the causal skip, ``sdpa_mask`` returns a bool tensor [batch, 1, q_length, kv_length] whose
    entry [b, 0, i, j] is the mask function at (b, 0, q_offset + i, kv_offset + j) and the 2-D padding mask
    at absolute key position kv_offset + j (False beyond its length); custom mask functions that read the
    head index see head 0."""
    case = draw_any_call(data, impl, tuple(MASK_KINDS))
    if case is None:
        return
    geo, spec, extra = case
    device = runtime.device()
    am = geo.attention_mask_tensor(device)
    fn = spec.build(impl, device)
    out = impl.sdpa_mask(
        **geo.kwargs(),
        mask_function=at_head_zero(fn) if head_aware else fn,
        attention_mask=am,
        allow_is_causal_skip=False,
        device=device,
        **extra,
    )
    call = geo.call("sdpa_mask", spec.call(), allow_is_causal_skip=False)
    assert out is not None, f"returned None, but allow_is_causal_skip=False [{call}]"
    out = as_tensor_result(out, what="sdpa_mask", call=call)
    assert_equal(tuple(out.shape), (geo.batch, 1, geo.q_length, geo.kv_length), what="mask shape", call=call)
    assert_equal(out.dtype, torch.bool, what="mask dtype", call=call)
    assert_equal(out.cpu(), expected_mask(spec, geo), what="mask values", call=call)


@requires("sdpa_mask", "causal_mask_function")
@pytest.mark.parametrize("phase", PHASES)
@given(data=st.data())
@pinned_examples()  # the pinned calls of the phase (PINNED)
def test_sdpa_mask_returns_none_only_when_sdpa_is_causal_computes_the_mask(impl, phase, data):
    """With ``allow_is_causal_skip`` (and ``local_size`` for windowed masks), as models call it for causal,
    sliding-window and chunked masks, ``sdpa_mask`` may return None only when sdpa's own handling of a
    missing mask -- causal aligned to the upper left for several queries, every key for a single query --
    computes exactly the mask; otherwise it returns the mask.  Calls follow the callers' invariants (see
    :func:`layer_conformance.strategies.geometries`); ``decode`` is one query, ``prefill`` several."""
    case = draw_case(data, impl, phase, CAUSAL_FAMILY)
    if case is None:
        return
    geo, spec, extra = case
    device = runtime.device()
    out = impl.sdpa_mask(
        **geo.kwargs(),
        mask_function=spec.build(impl, device),
        attention_mask=geo.attention_mask_tensor(device),
        allow_is_causal_skip=True,
        device=device,
        **extra,
    )
    call = geo.call("sdpa_mask", spec.call(), allow_is_causal_skip=True, **extra)
    expected = expected_mask(spec, geo)
    if out is None:
        assert_equal(
            sdpa_is_causal_mask(geo), expected, what="mask sdpa computes for None vs the requested mask", call=call
        )
    else:
        assert_equal(out.cpu(), expected, what="mask values", call=call)


@requires("sdpa_mask", "eager_mask", "causal_mask_function")
@given(batch=st.integers(1, 2), length=lengths)
def test_builder_defaults(impl, batch, length):
    """Called with sizes only (a prefill: as many keys as queries, none padded), the builders use offsets 0
    and the causal mask function; ``eager_mask`` defaults to float32; ``sdpa_mask`` may return None only
    where sdpa's ``is_causal`` gives the mask."""
    q_length = kv_length = length
    geo = Geometry(batch, q_length, kv_length)
    expected = expected_mask(MaskSpec("causal"), geo)
    call = f"sdpa_mask({batch}, {q_length}, {kv_length})"
    out = impl.sdpa_mask(batch, q_length, kv_length)
    if out is None:
        assert_equal(sdpa_is_causal_mask(geo), expected, what="mask sdpa computes for None", call=call)
    else:
        assert_equal(out.cpu(), expected, what="mask values", call=call)
    eager = impl.eager_mask(batch, q_length, kv_length)
    call = f"eager_mask({batch}, {q_length}, {kv_length})"
    assert_equal(eager.dtype, torch.float32, what="default eager mask dtype", call=call)
    minimum = torch.finfo(torch.float32).min
    assert_equal(eager.cpu(), torch.where(expected, torch.zeros(()), minimum), what="eager mask values", call=call)


@requires("eager_mask", "causal_mask_function")
@given(data=st.data(), dtype=st.sampled_from([torch.float32, torch.float16, torch.bfloat16, torch.float64]))
@pinned_examples(any_call=True, dtype=torch.float16)  # the pinned calls (ANY_PINNED)
def test_eager_mask_is_the_mask_as_zero_and_dtype_min(impl, data, dtype):
    """``eager_mask`` is the mask as a float tensor of the requested dtype: 0 where attended and
    ``torch.finfo(dtype).min`` (not -inf) where masked."""
    case = draw_any_call(data, impl, tuple(MASK_KINDS))
    if case is None:
        return
    geo, spec, _ = case
    device = runtime.device()
    out = impl.eager_mask(
        **geo.kwargs(),
        mask_function=spec.build(impl, device),
        attention_mask=geo.attention_mask_tensor(device),
        dtype=dtype,
        device=device,
    )
    call = geo.call("eager_mask", spec.call(), dtype=dtype)
    out = as_tensor_result(out, what="eager_mask", call=call)
    assert_equal(out.dtype, dtype, what="eager mask dtype", call=call)
    expected = torch.where(expected_mask(spec, geo), torch.zeros((), dtype=dtype), torch.finfo(dtype).min)
    assert_equal(out.cpu(), expected, what="eager mask values", call=call)


def materialize(mask: torch.Tensor | None, geo: Geometry) -> torch.Tensor:
    return sdpa_is_causal_mask(geo) if mask is None else mask.cpu()


@requires("sdpa_mask", "eager_mask", "causal_mask_function")
@pytest.mark.parametrize("phase", PHASES)
@given(data=st.data())
@pinned_examples()  # the pinned calls of the phase (PINNED)
def test_mask_builders_match_reference(impl, phase, data):
    """Differential: sdpa_mask (None read as sdpa's is_causal) and eager_mask equal the reference's, for
    builder calls as models make them; ``decode`` is one query, ``prefill`` several (apart, so that a
    bug of one phase is recorded against that phase only)."""
    case = draw_case(data, impl, phase, tuple(MASK_KINDS))
    if case is None:
        return
    geo, spec, extra = case
    device = runtime.device()
    kwargs = dict(**geo.kwargs(), attention_mask=geo.attention_mask_tensor(device), device=device)
    skip = spec.kind in CAUSAL_FAMILY
    out = impl.sdpa_mask(mask_function=spec.build(impl, device), allow_is_causal_skip=skip, **kwargs, **extra)
    ref = reference.sdpa_mask(mask_function=spec.build(reference, device), allow_is_causal_skip=skip, **kwargs)
    call = geo.call("sdpa_mask", spec.call(), allow_is_causal_skip=skip, **extra)
    assert_equal(materialize(out, geo), materialize(ref, geo), what="sdpa_mask vs reference", call=call)
    out = impl.eager_mask(mask_function=spec.build(impl, device), **kwargs)
    ref = reference.eager_mask(mask_function=spec.build(reference, device), **kwargs)
    assert_equal(out.cpu(), ref.cpu(), what="eager_mask vs reference", call=geo.call("eager_mask", spec.call()))


@requires("sdpa_mask", "eager_mask", "sdpa_attention_forward", "eager_attention_forward", "causal_mask_function")
@pytest.mark.parametrize("phase", PHASES)
@given(data=st.data(), seed=seeds(), groups=st.integers(1, 2))
@pinned_examples(seed=0, groups=1)  # the pinned calls of the phase (PINNED)
def test_end_to_end_sdpa_path_equals_eager_path(impl, phase, data, seed, groups):
    """For every mask function, attention with ``sdpa_mask`` through ``sdpa_attention_forward`` equals
    attention with ``eager_mask`` through ``eager_attention_forward`` (a decoder module, ``is_causal``
    True), on the query rows that attend at least one key; masks are built as models build them (the
    causal skip allowed for the causal family)."""
    case = draw_case(data, impl, phase, tuple(MASK_KINDS))
    if case is None:
        return
    geo, spec, extra = case
    device = runtime.device()
    skip = spec.kind in CAUSAL_FAMILY
    kwargs = dict(**geo.kwargs(), attention_mask=geo.attention_mask_tensor(device), device=device)
    sdpa_m = impl.sdpa_mask(mask_function=spec.build(impl, device), allow_is_causal_skip=skip, **kwargs, **extra)
    eager_m = impl.eager_mask(mask_function=spec.build(impl, device), dtype=torch.float32, **kwargs)
    heads, d = 2 * groups, 4
    q = make_tensor((geo.batch, heads, geo.q_length, d), seed, device=device)
    k = make_tensor((geo.batch, 2, geo.kv_length, d), seed + 1, device=device)
    v = make_tensor((geo.batch, 2, geo.kv_length, d), seed + 2, device=device)
    module = attention_module(groups, is_causal=True)
    out_s, _ = impl.sdpa_attention_forward(module, q, k, v, sdpa_m, scaling=d**-0.5)
    out_e, _ = impl.eager_attention_forward(module, q, k, v, eager_m, scaling=d**-0.5)
    rows = expected_mask(spec, geo).any(-1).squeeze(1)  # [b, q]
    rows = rows[:, :, None].expand(geo.batch, geo.q_length, heads).to(device)
    note(f"sdpa_mask returned {'None' if sdpa_m is None else 'a mask'}")
    call = geo.call("sdpa_mask", spec.call(), allow_is_causal_skip=skip, **extra) + " -> sdpa vs eager_mask -> eager"
    assert_close(out_s[rows], out_e[rows], kind="attention", what="sdpa path vs eager path", call=call)


@backend_property("builder")
@pytest.mark.parametrize("phase", PHASES)
@given(data=st.data())
@pinned_examples()  # the pinned calls of the phase (PINNED)
def test_backend_builder_mask_reads_as_the_mask_function(impl, backend, phase, data):
    """Each selected backend's mask builder, called as models call it (the causal family may skip its
    mask; sdpa's builder takes the window as ``local_size``, eager's the dtype), returns a mask that, read
    the way its backend reads it -- additive 0 / finfo.min, boolean, None as sdpa's is_causal or as every
    key, a flex BlockMask, a 2-D padding mask with the kernel's own causality and window -- attends exactly
    where the mask function and the 2-D padding mask do, for the geometries of the builder properties."""
    b = builder_of(impl, backend)
    functions = mask_functions(impl)
    case = draw_case(data, functions, phase, tuple(MASK_KINDS))
    if case is None:
        return
    geo, spec, extra = case
    if b.caps.mask == "padding2d" and spec.kind not in ("causal", "sliding_window_causal"):
        return  # a flash-style builder has no other mask function: its kernel is causal
    device = runtime.device()
    causal = spec.kind in CAUSAL_FAMILY
    kwargs = builder_kwargs(b.caps, causal_family=causal, local_size=extra.get("local_size"), dtype=torch.float32)
    with running(b.caps):
        mask = b.builder(
            **geo.kwargs(),
            mask_function=spec.build(functions, device),
            attention_mask=geo.attention_mask_tensor(device),
            device=device,
            **kwargs,
        )
    call = geo.call(b.caps.builder_label, spec.call(), **kwargs)
    window = spec.window if b.caps.window == "kwarg" and spec.window else None
    try:
        read = read_mask(b.caps, mask, geo.batch, geo.q_length, geo.kv_length, is_causal=causal, sliding_window=window)
    except AssertionError as exc:
        raise AssertionError(f"{exc} [{call}]") from None
    note(f"the builder returned {type(mask).__name__}")
    assert_equal(read, expected_mask(spec, geo), what=f"mask as {b.caps.key} reads it", call=call)


# --------------------------------------------------------------------------- builder options of 5.x

BUILDERS = [
    pytest.param("sdpa_mask", marks=requires("sdpa_mask"), id="sdpa_mask"),
    pytest.param("eager_mask", marks=requires("eager_mask"), id="eager_mask"),
]


def builder_with(impl, name: str, *options: str):
    """The implementation's builder ``name``, or a skip naming the first option its signature lacks
    (4.57.x has neither ``allow_is_bidirectional_skip`` nor ``use_vmap``)."""
    fn = getattr(impl, name)
    parameters = inspect.signature(fn).parameters
    for option in options:
        if option not in parameters:
            missing(f"{name}({option})", impl)
    return fn


def built(name: str, out, spec: MaskSpec, geo: Geometry, call: str) -> torch.Tensor:
    """A builder's mask as booleans [b, 1, q, kv] (eager's 0 / ``finfo.min`` read back), after the checks
    of its form: shape, and bool for sdpa_mask, float32 with only 0 and ``finfo(float32).min`` for eager."""
    out = as_tensor_result(out, what=name, call=call).cpu()
    assert_equal(tuple(out.shape), (geo.batch, 1, geo.q_length, geo.kv_length), what="mask shape", call=call)
    if name == "sdpa_mask":
        assert_equal(out.dtype, torch.bool, what="mask dtype", call=call)
        return out
    assert_equal(out.dtype, torch.float32, what="eager mask dtype", call=call)
    minimum = torch.finfo(torch.float32).min
    assert bool(((out == 0) | (out == minimum)).all()), f"eager mask values other than 0 and finfo.min [{call}]"
    return out == 0


#: The regimes of :func:`bidirectional_geometries`, beyond their geometry's: calls as models make them and
#: any other, with every key attended (the skip may apply) or some key masked.
BIDIRECTIONAL_REGIMES = Regimes(
    "bidirectional call",
    {
        "as models call it": lambda case: case[1],
        "any other call": lambda case: not case[1],
        "every key attended": lambda case: bool(expected_mask(MaskSpec("bidirectional"), case[0]).all()),
        "some key masked": lambda case: not bool(expected_mask(MaskSpec("bidirectional"), case[0]).all()),
    },
)


@st.composite
def bidirectional_geometries(draw: st.DrawFn) -> tuple[Geometry, bool]:
    """(geometry, realistic): as models build bidirectional masks (encoders, cross-attention): offsets 0, the
    2-D padding mask, when given, one entry per key, shaped as padding comes (:func:`padding_rows`); or any
    call (offsets, a 2-D mask of any length).  Labelled with its geometry's regimes (no 2-D mask, one
    without padding, left, right and inner padding) and :data:`BIDIRECTIONAL_REGIMES`."""
    realistic = draw(st.booleans(), label="realistic")
    if realistic:
        batch = draw(st.integers(1, 3), label="batch")
        q_length, kv_length = draw(lengths, label="q_length"), draw(lengths, label="kv_length")
        attention_mask = None
        if draw(st.booleans(), label="with_attention_mask"):
            attention_mask = draw(padding_rows(batch=batch, length=kv_length), label="attention_mask")
        geo = Geometry(batch, q_length, kv_length, attention_mask=attention_mask)
    else:
        geo = draw(geometries(realistic=False, label=False), label="geometry")
    return _label_bidirectional((geo, realistic))


def _label_bidirectional(case: tuple[Geometry, bool]) -> tuple[Geometry, bool]:
    declared = ["no 2-D mask", "a 2-D mask without padding", "left padding", "right padding", "inner padding"]
    GEOMETRY_REGIMES.label(case[0], declared=declared)
    return BIDIRECTIONAL_REGIMES.label(case)


#: Explicit examples of the bidirectional skip, as models call it: no 2-D mask, one without padding, left,
#: right and inner padding (every key attended, some masked); and one other call (an offset).
PINNED_BIDIRECTIONAL = (
    (Geometry(1, 2, 3), True),
    (Geometry(2, 2, 3, attention_mask=((True,) * 3, (True,) * 3)), True),
    (Geometry(2, 3, 3, attention_mask=((False, True, True), (True, True, True))), True),
    (Geometry(1, 1, 4, attention_mask=((True, True, True, False),)), True),
    (Geometry(2, 2, 4, attention_mask=((True, False, True, True), (True,) * 4)), True),
    (Geometry(1, 2, 3, 1, 0), False),
)


@requires("bidirectional_mask_function")
@pytest.mark.parametrize("name", BUILDERS)
@given(case=bidirectional_geometries())
@explicit(*({"case": case} for case in PINNED_BIDIRECTIONAL), label=lambda kw: _label_bidirectional(kw["case"]))
def test_bidirectional_skip_returns_none_exactly_when_every_key_is_attended(impl, name, case):
    """With ``allow_is_bidirectional_skip=True``, as models build bidirectional masks (the bidirectional mask
    function, the 2-D padding mask with one entry per key, offsets 0, no causal skip), the builder returns
    None exactly when every query attends every key, and its mask otherwise; ``eager_mask`` forwards the
    option like ``sdpa_mask``.  For any other
    call (offsets, a 2-D mask of any length) a None still means that every key is attended, and a mask
    is the mask."""
    geo, realistic = case
    fn = builder_with(impl, name, "allow_is_bidirectional_skip")
    device = runtime.device()
    spec = MaskSpec("bidirectional")
    kwargs = {"allow_is_causal_skip": False} if name == "sdpa_mask" else {}
    out = fn(
        **geo.kwargs(),
        mask_function=spec.build(impl, device),
        attention_mask=geo.attention_mask_tensor(device),
        allow_is_bidirectional_skip=True,
        device=device,
        **kwargs,
    )
    call = geo.call(name, spec.call(), **kwargs, allow_is_bidirectional_skip=True)
    expected = expected_mask(spec, geo)
    every_key = bool(expected.all())
    note(f"{name} returned {'None' if out is None else 'a mask'}; every key attended: {every_key}")
    if out is None:
        assert every_key, (
            f"returned None (attend every key), but the mask masks {int((~expected).sum())} entries [{call}]"
        )
        return
    assert not (realistic and every_key), f"returned a mask, but every key is attended and the skip is allowed [{call}]"
    assert_equal(built(name, out, spec, geo, call), expected, what="mask values", call=call)


def pointwise_mask(b, h, q, kv):
    """A custom mask function written for single indices: ``max(q, kv)`` even.  Stacking its indices works
    on 0-d tensors only, so that it cannot be evaluated on broadcast index tensors."""
    return torch.stack((q, kv)).amax(0) % 2 == 0


@requires("causal_mask_function")
@pytest.mark.parametrize("name", BUILDERS)
@given(data=st.data(), head_aware=st.booleans(), skips=st.booleans())
@pinned_examples(any_call=True, head_aware=True, skips=True)  # the pinned calls (ANY_PINNED)
def test_use_vmap_changes_nothing(impl, name, data, head_aware, skips):
    """``use_vmap=True`` evaluates the mask function point by point, under ``torch.vmap``, and changes
    nothing else: for every mask function of the contract (custom ones reading the head index too), with
    or without the skips allowed, the builder returns what it returns with ``use_vmap=False`` -- None in
    the same cases, otherwise a mask of the same shape, dtype and values.  A custom mask function written
    for single indices, which cannot broadcast, gives its truth table with ``use_vmap=True``."""
    fn = builder_with(impl, name, "use_vmap")
    case = draw_any_call(data, impl, tuple(MASK_KINDS))
    if case is None:
        return
    geo, spec, extra = case
    device = runtime.device()
    options: dict = dict(extra)
    if skips:
        options["allow_is_causal_skip"] = True
        if "allow_is_bidirectional_skip" in inspect.signature(fn).parameters:
            options["allow_is_bidirectional_skip"] = True
    elif name == "sdpa_mask":
        options["allow_is_causal_skip"] = False
    mask_function = spec.build(impl, device)
    mask_function = at_head_zero(mask_function) if head_aware else mask_function
    am = geo.attention_mask_tensor(device)
    plain = fn(**geo.kwargs(), mask_function=mask_function, attention_mask=am, device=device, **options)
    vmapped = fn(
        **geo.kwargs(), mask_function=mask_function, attention_mask=am, device=device, use_vmap=True, **options
    )
    call = geo.call(name, spec.call(), **options, use_vmap=True)
    if plain is None or vmapped is None:
        assert plain is None and vmapped is None, (
            f"returned {'None' if vmapped is None else 'a mask'} with use_vmap=True, "
            f"{'None' if plain is None else 'a mask'} without [{call}]"
        )
    else:
        vmapped = as_tensor_result(vmapped, what=name, call=call)
        assert_equal(vmapped.dtype, plain.dtype, what="mask dtype with use_vmap vs without", call=call)
        assert_equal(vmapped.cpu(), plain.cpu(), what="mask with use_vmap vs without", call=call)
    pointwise = MaskSpec("bidirectional")  # truth of the custom function, below; its padding is the geometry's
    out = fn(
        **geo.kwargs(),
        mask_function=pointwise_mask,
        attention_mask=am,
        device=device,
        use_vmap=True,
        **({"allow_is_causal_skip": False} if name == "sdpa_mask" else {}),
    )
    call = geo.call(name, "pointwise_mask", use_vmap=True)

    def truth(b, h, q, kv):
        return max(q, kv) % 2 == 0 and geo.padding(b, kv)

    expected = truth_table(truth, geo.batch, 1, geo.q_length, geo.kv_length, geo.q_offset, geo.kv_offset)
    assert_equal(built(name, out, pointwise, geo, call), expected, what="mask of a single-index function", call=call)
