"""Conv1D: a linear layer with transposed weights (GPT / GPT-2)."""

from __future__ import annotations

import torch
from hypothesis import given
from hypothesis import strategies as st

from layer_conformance import runtime
from layer_conformance.reference import Conv1D as RefConv1D
from layer_conformance.strategies import dtypes, leading_dims, make_tensor, seeds, sizes
from layer_conformance.strategies.core import FLOAT_DTYPES, every_lead, explicit, label_lead
from layer_conformance.support.checks import as_tensor_result, assert_close, assert_equal, requires

features = sizes(1, 8)


def pinned(dtypes=FLOAT_DTYPES):
    """Explicit examples: leading dims none, one and several, each of ``dtypes`` (in every run)."""
    leads = [(), (3,), (2, 2), (1, 2, 3)]
    examples = [
        {"lead": leads[i % len(leads)], "nf": 3, "nx": 2, "dtype": dtypes[i % len(dtypes)], "seed": i}
        for i in range(max(len(leads), len(dtypes)))
    ]
    return explicit(*examples, label=lambda kwargs: label_lead(kwargs["lead"]))


def _conv1d(cls, nf: int, nx: int, seed: int, dtype: torch.dtype):
    """A Conv1D of class ``cls`` with weight and (non-zero) bias drawn from ``seed``."""
    layer = cls(nf, nx)
    with torch.no_grad():
        layer.weight.copy_(make_tensor((nx, nf), seed))
        layer.bias.copy_(make_tensor((nf,), seed + 1))
    return layer.to(device=runtime.device(), dtype=dtype)


def _linear_twin(layer, dtype: torch.dtype) -> torch.nn.Linear:
    nx, nf = layer.weight.shape
    linear = torch.nn.Linear(nx, nf).to(device=runtime.device(), dtype=dtype)
    with torch.no_grad():
        linear.weight.copy_(layer.weight.detach().T)
        linear.bias.copy_(layer.bias.detach())
    return linear


@requires("Conv1D")
@given(nf=features, nx=features)
def test_parameters_shapes_and_state_dict(impl, nf, nx):
    """``Conv1D(nf, nx)`` holds ``weight`` of shape (nx, nf) and ``bias`` of shape (nf,), initialised to
    zeros, both trainable parameters in the default dtype, and nothing else in its state_dict."""
    layer = impl.Conv1D(nf, nx)
    call = f"Conv1D(nf={nf}, nx={nx})"
    assert_equal(tuple(layer.weight.shape), (nx, nf), what="weight shape", call=call)
    assert_equal(tuple(layer.bias.shape), (nf,), what="bias shape", call=call)
    assert_equal(layer.bias.detach(), torch.zeros(nf), what="initial bias", call=call)
    assert_equal(sorted(layer.state_dict()), ["bias", "weight"], what="state_dict keys", call=call)
    params = dict(layer.named_parameters())
    assert_equal(sorted(params), ["bias", "weight"], what="parameter names", call=call)
    for name, p in params.items():
        assert_equal(p.dtype, torch.get_default_dtype(), what=f"{name} dtype", call=call)
        assert_equal(p.requires_grad, True, what=f"{name}.requires_grad", call=call)


@requires("Conv1D")
@given(seed=seeds())
def test_weight_init_is_normal_with_std_0_02(impl, seed):
    """The initial weight is drawn from N(0, 0.02): over 65536 entries the mean, the standard deviation and
    the share of entries within one standard deviation lie within 6 standard errors of their expected
    values (a false failure has probability below 1e-8)."""
    torch.manual_seed(seed)
    w = impl.Conv1D(256, 256).weight.detach().double().flatten()
    n, sigma = w.numel(), 0.02
    call = f"torch.manual_seed({seed}); Conv1D(256, 256).weight"
    mean, std = w.mean().item(), w.std().item()
    assert abs(mean) < 6 * sigma / n**0.5, f"weight mean {mean:.3g}, but should be ~0 [{call}]"
    assert abs(std - sigma) < 6 * sigma / (2 * n) ** 0.5, f"weight std {std:.5g}, but should be ~0.02 [{call}]"
    share = (w.abs() < sigma).double().mean().item()  # 0.6827 for a normal law, 0.577 for a uniform one
    p = 0.682689
    assert abs(share - p) < 6 * (p * (1 - p) / n) ** 0.5, (
        f"share of weights within one std {share:.4f}, but should be {p:.4f} for a normal law [{call}]"
    )


@requires("Conv1D")
@given(lead=leading_dims(), nf=features, nx=features, dtype=dtypes(allow_half=True, allow_float64=True), seed=seeds())
@pinned()  # leading dims and dtypes, in every run
def test_forward_equals_linear_with_transposed_weight(impl, lead, nf, nx, dtype, seed):
    """``Conv1D(nf, nx)(x)`` equals ``nn.Linear(nx, nf)`` holding ``weight.T`` and the same bias, for any
    leading dims, with output shape ``(..., nf)`` and the input's dtype."""
    layer = _conv1d(impl.Conv1D, nf, nx, seed, dtype)
    x = make_tensor((*lead, nx), seed + 2, dtype, runtime.device())
    call = f"Conv1D(nf={nf}, nx={nx})(x of shape {(*lead, nx)}, {dtype})"
    out = as_tensor_result(layer(x), what="Conv1D forward", call=call)
    assert_equal(tuple(out.shape), (*lead, nf), what="output shape", call=call)
    assert_close(out, _linear_twin(layer, dtype)(x), kind="matmul", what="Conv1D output vs nn.Linear", call=call)


@requires("Conv1D")
@given(lead=leading_dims(), nf=features, nx=features, dtype=dtypes(allow_float64=True), seed=seeds())
@pinned(dtypes=(torch.float32, torch.float64))  # leading dims and dtypes, in every run
def test_gradients_equal_linear(impl, lead, nf, nx, dtype, seed):
    """Gradients with respect to the input, the weight (transposed) and the bias equal nn.Linear's."""
    layer = _conv1d(impl.Conv1D, nf, nx, seed, dtype)
    linear = _linear_twin(layer, dtype)
    x = make_tensor((*lead, nx), seed + 2, dtype, runtime.device(), requires_grad=True)
    x2 = x.detach().clone().requires_grad_(True)
    upstream = make_tensor((*lead, nf), seed + 3, dtype, runtime.device())
    layer(x).backward(upstream)
    linear(x2).backward(upstream)
    call = f"Conv1D(nf={nf}, nx={nx})(x of shape {(*lead, nx)}).backward()"
    for name, grad in (("input", x.grad), ("weight", layer.weight.grad), ("bias", layer.bias.grad)):
        assert grad is not None, f"the {name} got no gradient [{call}]"
    assert_close(x.grad, x2.grad, kind="reduction", what="input gradient", call=call)
    assert_close(layer.weight.grad, linear.weight.grad.T, kind="reduction", what="weight gradient", call=call)
    assert_close(layer.bias.grad, linear.bias.grad, kind="reduction", what="bias gradient", call=call)


@requires("Conv1D")
@given(lead=leading_dims(min_rank=2, max_rank=3), nf=features, nx=features, seed=seeds())
@every_lead(min_rank=2, max_rank=3, nf=3, nx=2, seed=0)  # several leading dims, in every run
def test_accepts_non_contiguous_input(impl, lead, nf, nx, seed):
    """Like nn.Linear, Conv1D accepts a non-contiguous input (a view with permuted leading dims)."""
    layer = _conv1d(impl.Conv1D, nf, nx, seed, torch.float32)
    base = make_tensor((lead[1], lead[0], *lead[2:], nx), seed + 2, device=runtime.device())
    x = base.transpose(0, 1)
    call = f"Conv1D(nf={nf}, nx={nx})(x.transpose(0, 1) of shape {tuple(x.shape)})"
    out = layer(x)
    assert_close(out, _linear_twin(layer, torch.float32)(x), kind="matmul", what="output", call=call)


@requires("Conv1D")
@given(lead=leading_dims(), nf=features, nx=features, dtype=dtypes(allow_float64=True), seed=seeds())
@pinned(dtypes=(torch.float32, torch.float64))  # leading dims and dtypes, in every run
def test_matches_reference(impl, lead, nf, nx, dtype, seed):
    """Differential: with the same parameters, the implementation's Conv1D gives the reference's output."""
    layer = _conv1d(impl.Conv1D, nf, nx, seed, dtype)
    ref = _conv1d(RefConv1D, nf, nx, seed, dtype)
    x = make_tensor((*lead, nx), seed + 2, dtype, runtime.device())
    call = f"Conv1D(nf={nf}, nx={nx})(x of shape {(*lead, nx)}, {dtype})"
    assert_close(layer(x), ref(x), kind="matmul", what="output vs reference", call=call)


@requires("Conv1D")
@given(nf=features, nx=features, seed=seeds(), scale=st.sampled_from([1.0, 1e3]))
def test_load_state_dict_round_trip(impl, nf, nx, seed, scale):
    """A state_dict saved from one Conv1D loads into another of the same size and gives the same output."""
    src = _conv1d(impl.Conv1D, nf, nx, seed, torch.float32)
    dst = impl.Conv1D(nf, nx).to(runtime.device())
    dst.load_state_dict(src.state_dict())
    x = make_tensor((2, nx), seed + 2, device=runtime.device(), scale=scale)
    assert_equal(dst(x), src(x), what="output after load_state_dict", call=f"Conv1D(nf={nf}, nx={nx})")
