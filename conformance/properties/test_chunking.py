"""apply_chunking_to_forward: chunk inputs along a dim, apply forward_fn per chunk, concatenate."""

from __future__ import annotations

import torch
from hypothesis import example, given, note
from hypothesis import strategies as st

from layer_conformance import runtime
from layer_conformance.reference import apply_chunking_to_forward as ref_chunking
from layer_conformance.strategies import ChunkSpec, chunk_specs, dtypes, make_tensor, seeds
from layer_conformance.strategies.chunking import CHUNK_REGIMES, PINNED_SPECS, chunk_regimes
from layer_conformance.strategies.core import FLOAT_DTYPES, examples, explicit
from layer_conformance.support.checks import (
    as_tensor_result,
    assert_close,
    assert_equal,
    assert_raises,
    call_unmutated,
    requires,
)

#: Inputs per call: up to three, after the first of its shape or of one that differs outside the chunk dim.
INPUTS = 3


def _reduce_to(x: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """``x`` summed over the dims where its size differs from ``shape`` (kept as 1): broadcastable to it."""
    dims = [d for d in range(x.dim()) if x.shape[d] != shape[d]]
    return x.sum(dims, keepdim=True) if dims else x


def _combine(xs: tuple[torch.Tensor, ...]) -> torch.Tensor:
    acc = xs[0]
    for i, x in enumerate(xs[1:], start=2):
        acc = acc * i + _reduce_to(x, acc.shape)
    return torch.tanh(acc)


def forward_fn(n: int, spec: ChunkSpec):
    """A forward_fn of exactly ``n`` parameters, independent along ``spec.chunk_dim`` but not elementwise:
    it combines its inputs (an input whose shape differs outside the chunk dim is summed over the dims
    that differ), then takes a cumulative sum over another dim (when there is one)."""
    rank = len(spec.shape)
    others = [d for d in range(rank) if d != spec.chunk_dim % rank]

    def body(*xs: torch.Tensor) -> torch.Tensor:
        y = _combine(xs)
        return y.cumsum(others[-1]) if others else y

    return {1: lambda a: body(a), 2: lambda a, b: body(a, b), 3: lambda a, b, c: body(a, b, c)}[n]


def _inputs(spec: ChunkSpec, seed: int, dtype=torch.float32, requires_grad=False):
    return [
        make_tensor(shape, seed + i, dtype, runtime.device(), requires_grad=requires_grad)
        for i, shape in enumerate(spec.shapes)
    ]


def _call(spec: ChunkSpec) -> str:
    shapes = f"tensors of shape {spec.shape}" if spec.same_shapes else f"tensors of shapes {list(spec.shapes)}"
    return (
        f"apply_chunking_to_forward(fn, chunk_size={spec.chunk_size}, chunk_dim={spec.chunk_dim}, *{spec.n} {shapes})"
    )


def _label(spec: ChunkSpec, *, allow_zero: bool = True, max_inputs: int = INPUTS) -> None:
    """Label a spec with its regimes (explicit examples bypass the strategy, which labels the drawn ones)."""
    CHUNK_REGIMES.label(spec, declared=chunk_regimes(allow_zero=allow_zero, max_inputs=max_inputs))


def pinned(**fixed):
    """Explicit examples: every spec of :data:`PINNED_SPECS` (together they reach every regime)."""
    return examples(*({"spec": spec, **fixed} for spec in PINNED_SPECS))


@requires("apply_chunking_to_forward")
@given(spec=chunk_specs(max_inputs=INPUTS), dtype=dtypes(allow_half=True, allow_float64=True), seed=seeds())
@example(spec=ChunkSpec((1024,), 0, 512, ((1024,), (1024,))), dtype=torch.float32, seed=0)  # beyond small ints
@explicit(*({"spec": s, "dtype": d, "seed": 0} for s, d in zip(PINNED_SPECS, FLOAT_DTYPES, strict=True)))  # each dtype
def test_chunked_equals_unchunked(impl, spec, dtype, seed):
    """For a forward_fn independent along ``chunk_dim``, chunking (any dividing chunk size, any dim, negative
    dims included, 0 meaning no chunking) gives the result of applying forward_fn to the whole inputs,
    for one or several inputs chunked in lockstep -- inputs whose shapes differ outside ``chunk_dim``
    included: only the chunk dim must agree."""
    _label(spec)
    fn = forward_fn(spec.n, spec)
    xs = _inputs(spec, seed, dtype)
    call = _call(spec)
    out = as_tensor_result(
        impl.apply_chunking_to_forward(fn, spec.chunk_size, spec.chunk_dim, *xs), what="output", call=call
    )
    expected = fn(*xs)
    assert_equal(tuple(out.shape), tuple(expected.shape), what="output shape", call=call)
    assert_close(out, expected, kind="reduction", what="chunked output", call=call)


@requires("apply_chunking_to_forward")
@given(spec=chunk_specs(max_inputs=INPUTS), seed=seeds())
@pinned(seed=0)
def test_gradients_equal_unchunked(impl, spec, seed):
    """Gradients flow through chunking: the input gradients equal those of the unchunked forward."""
    _label(spec)
    fn = forward_fn(spec.n, spec)
    xs = _inputs(spec, seed, requires_grad=True)
    twins = [x.detach().clone().requires_grad_(True) for x in xs]
    upstream = make_tensor(spec.shape, seed + 7, device=runtime.device())
    impl.apply_chunking_to_forward(fn, spec.chunk_size, spec.chunk_dim, *xs).backward(upstream)
    fn(*twins).backward(upstream)
    for i, (x, twin) in enumerate(zip(xs, twins, strict=True)):
        assert x.grad is not None, f"input #{i} got no gradient [{_call(spec)}]"
        assert_close(x.grad, twin.grad, kind="reduction", what=f"gradient of input #{i}", call=_call(spec))


@requires("apply_chunking_to_forward")
@given(spec=chunk_specs(max_inputs=INPUTS), seed=seeds())
@pinned(seed=0)
def test_forward_fn_called_once_per_chunk_in_order(impl, spec, seed):
    """forward_fn is called ``size / chunk_size`` times with consecutive chunks of ``chunk_size`` along
    ``chunk_dim`` (other dims untouched, whatever each input's size there), the n-th input's chunk as the
    n-th argument; with chunk_size 0 it is called once with the full tensors."""
    _label(spec)
    n = spec.n
    xs = _inputs(spec, seed)
    calls: list[tuple[torch.Tensor, ...]] = []
    fn = forward_fn(n, spec)

    def spy(*args):
        calls.append(tuple(a.detach().clone() for a in args))
        return fn(*args)

    spy_n = {1: lambda a: spy(a), 2: lambda a, b: spy(a, b), 3: lambda a, b, c: spy(a, b, c)}[n]
    impl.apply_chunking_to_forward(spy_n, spec.chunk_size, spec.chunk_dim, *xs)
    call = _call(spec)
    note(f"received chunk shapes: {[tuple(c[0].shape) for c in calls]}")
    assert_equal(len(calls), spec.num_chunks, what="number of forward_fn calls", call=call)
    for args in calls:
        assert_equal(len(args), n, what="arguments per call", call=call)
    for i, x in enumerate(xs):
        chunks = [args[i] for args in calls]
        expected_shape = list(x.shape)
        expected_shape[spec.chunk_dim] = spec.chunk_size or spec.size
        for chunk in chunks:
            assert_equal(list(chunk.shape), expected_shape, what=f"chunk shape of input #{i}", call=call)
        assert_equal(torch.cat(chunks, dim=spec.chunk_dim), x, what=f"chunks of input #{i}, concatenated", call=call)


@requires("apply_chunking_to_forward")
@given(spec=chunk_specs(max_inputs=INPUTS), seed=seeds())
@pinned(seed=0)
def test_inputs_not_mutated(impl, spec, seed):
    """apply_chunking_to_forward leaves its input tensors unchanged."""
    _label(spec)
    xs = _inputs(spec, seed)
    call_unmutated(
        impl.apply_chunking_to_forward,
        forward_fn(spec.n, spec),
        spec.chunk_size,
        spec.chunk_dim,
        *xs,
        what="apply_chunking_to_forward",
        call=_call(spec),
    )


@requires("apply_chunking_to_forward")
@given(spec=chunk_specs(max_inputs=INPUTS), delta=st.sampled_from([-1, 1]), seed=seeds())
@pinned(delta=1, seed=0)
def test_wrong_number_of_arguments_is_value_error(impl, spec, delta, seed):
    """A forward_fn whose parameter count differs from the number of input tensors raises ValueError,
    whatever the chunk size."""
    _label(spec)
    n = spec.n
    n_params = n + 1 if delta > 0 or n == 1 else n - 1
    fn = {1: lambda a: a, 2: lambda a, b: a, 3: lambda a, b, c: a, 4: lambda a, b, c, d: a}[n_params]
    xs = _inputs(spec, seed)
    assert_raises(
        ValueError,
        impl.apply_chunking_to_forward,
        fn,
        spec.chunk_size,
        spec.chunk_dim,
        *xs,
        what=f"forward_fn of {n_params} parameters",
        call=_call(spec),
    )


@requires("apply_chunking_to_forward")
@given(spec=chunk_specs(allow_zero=False), extra=st.integers(1, 3), smaller=st.booleans(), seed=seeds())
@explicit(
    *(
        {"spec": ChunkSpec(spec.shape, spec.chunk_dim, spec.chunk_size), "extra": 1, "smaller": i % 2 == 1, "seed": 0}
        for i, spec in enumerate(s for s in PINNED_SPECS if s.chunk_size)
    ),
    label=lambda values: _label(values["spec"], allow_zero=False, max_inputs=1),
)  # every regime of the specs, in every run
def test_unequal_sizes_is_value_error(impl, spec, extra, smaller, seed):
    """With chunking on, inputs of different sizes along ``chunk_dim`` raise ValueError, whichever is
    larger."""
    other = list(spec.shape)
    other[spec.chunk_dim] += spec.chunk_size * extra  # still divisible: only the inequality is wrong
    if smaller:  # the first input is the larger one
        spec, other = ChunkSpec(tuple(other), spec.chunk_dim, spec.chunk_size), list(spec.shape)
    two = ChunkSpec(spec.shape, spec.chunk_dim, spec.chunk_size, (spec.shape, tuple(other)))
    xs = [
        make_tensor(spec.shape, seed, device=runtime.device()),
        make_tensor(tuple(other), seed + 1, device=runtime.device()),
    ]
    assert_raises(
        ValueError,
        impl.apply_chunking_to_forward,
        lambda a, b: a,
        spec.chunk_size,
        spec.chunk_dim,
        *xs,
        what=f"inputs of sizes {spec.size} and {other[spec.chunk_dim]} along dim {spec.chunk_dim}",
        call=_call(two),
    )


@requires("apply_chunking_to_forward")
@given(spec=chunk_specs(allow_zero=False, label=False), extra=st.integers(1, 3), seed=seeds())
@example(spec=ChunkSpec((2, 6, 3), -2, 2), extra=1, seed=0)  # a negative chunk dim before the last, in every run
def test_without_chunking_inputs_of_any_sizes_reach_forward_fn_whole(impl, spec, extra, seed):
    """With ``chunk_size`` 0 (no chunking) forward_fn is called once, with the inputs whole, whatever their
    sizes along ``chunk_dim``: the sizes are checked only when chunking."""
    CHUNK_REGIMES.label(spec, declared=["a negative chunk dim", "a chunk dim before the last"])  # its shape only
    other = list(spec.shape)
    other[spec.chunk_dim] += extra
    xs = [
        make_tensor(spec.shape, seed, device=runtime.device()),
        make_tensor(tuple(other), seed + 1, device=runtime.device()),
    ]
    calls = []

    def fn(a, b):
        calls.append((a.detach().clone(), b.detach().clone()))
        return a

    call = _call(ChunkSpec(spec.shape, spec.chunk_dim, 0, (spec.shape, tuple(other))))
    out = impl.apply_chunking_to_forward(fn, 0, spec.chunk_dim, *xs)
    assert_equal(len(calls), 1, what="number of forward_fn calls", call=call)
    for i, (got, x) in enumerate(zip(calls[0], xs, strict=True)):
        assert_equal(got, x, what=f"input #{i} as forward_fn received it", call=call)
    assert_equal(as_tensor_result(out, what="output", call=call), xs[0], what="output", call=call)


@requires("apply_chunking_to_forward")
@given(chunk_size=st.sampled_from([0, 1, 2]))
def test_no_input_tensor_is_an_error(impl, chunk_size):
    """At least one input tensor is needed: none is an error (ValueError; transformers asserts), whatever
    the chunk size, before forward_fn is called."""
    calls = []
    assert_raises(
        (ValueError, AssertionError),
        impl.apply_chunking_to_forward,
        lambda: calls.append(1),
        chunk_size,
        0,
        what="no input tensors",
        call=f"apply_chunking_to_forward(fn, {chunk_size}, 0)",
    )
    assert not calls, f"forward_fn was called without inputs [apply_chunking_to_forward(fn, {chunk_size}, 0)]"


@requires("apply_chunking_to_forward")
@given(spec=chunk_specs(allow_zero=False, label=False), seed=seeds(), data=st.data())
@example(spec=ChunkSpec((2, 6, 3), -2, 2), seed=0, data=None)  # a negative chunk dim before the last, in every run
def test_non_divisible_size_is_value_error(impl, spec, seed, data):
    """A size along ``chunk_dim`` that is not a multiple of ``chunk_size`` raises ValueError."""
    CHUNK_REGIMES.label(spec, declared=["a negative chunk dim", "a chunk dim before the last"])  # its shape only
    size = spec.size
    bad = [c for c in range(2, size + 3) if size % c != 0]
    if not bad:  # size 1 or 2: grow the dim to make room for a non-divisor
        size += 1
        bad = [c for c in range(2, size + 3) if size % c != 0]
    chunk_size = bad[0] if data is None else data.draw(st.sampled_from(bad), label="chunk_size")
    shape = list(spec.shape)
    shape[spec.chunk_dim] = size
    x = make_tensor(tuple(shape), seed, device=runtime.device())
    assert_raises(
        ValueError,
        impl.apply_chunking_to_forward,
        lambda a: a,
        chunk_size,
        spec.chunk_dim,
        x,
        what=f"size {size} with chunk_size {chunk_size}",
        call=f"apply_chunking_to_forward(fn, {chunk_size}, {spec.chunk_dim}, tensor of shape {tuple(shape)})",
    )


@requires("apply_chunking_to_forward")
@given(spec=chunk_specs(max_inputs=INPUTS), seed=seeds())
@pinned(seed=0)
def test_matches_reference(impl, spec, seed):
    """Differential: on the same inputs and forward_fn, the output equals the reference's exactly."""
    _label(spec)
    fn = forward_fn(spec.n, spec)
    xs = _inputs(spec, seed)
    out = impl.apply_chunking_to_forward(fn, spec.chunk_size, spec.chunk_dim, *xs)
    assert_equal(
        out, ref_chunking(fn, spec.chunk_size, spec.chunk_dim, *xs), what="output vs reference", call=_call(spec)
    )
