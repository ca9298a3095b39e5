"""GradientCheckpointingLayer: checkpointing changes memory, never results.

Layers are subclasses of the implementation's class built by the suite
(:mod:`layer_conformance.support.checkpointing`), enabled the way a model does it:
``gradient_checkpointing = True`` and ``_gradient_checkpointing_func =
partial(torch.utils.checkpoint.checkpoint, use_reentrant=...)``.
"""

from __future__ import annotations

import copy
import inspect
import itertools

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from layer_conformance import runtime
from layer_conformance.channel import observe
from layer_conformance.reference.layers import CHECKPOINTING_CACHE_KWARGS as DEFAULT_CACHE_KWARGS
from layer_conformance.strategies import leading_dims, make_tensor, seeds, sizes
from layer_conformance.strategies.core import every_lead
from layer_conformance.support.checkpointing import checkpointing_layers, enable_checkpointing
from layer_conformance.support.checks import assert_equal, captured_warnings, requires

pytestmark = requires("GradientCheckpointingLayer")

REENTRANT = [pytest.param(True, id="reentrant"), pytest.param(False, id="non-reentrant")]
widths = sizes(1, 6)


def seed_all(seed: int) -> None:
    """Seed the RNGs dropout draws from (cheaper than torch.manual_seed, which formats stack traces)."""
    torch.random.default_generator.manual_seed(seed)
    if runtime.device().type == "cuda":
        torch.cuda.manual_seed_all(seed)


def cache_kwargs(impl) -> tuple[str, ...]:
    """The cache keywords the implementation clears while checkpointing (hook; default: the reference's)."""
    return tuple(impl.hook("CHECKPOINTING_CACHE_KWARGS", DEFAULT_CACHE_KWARGS))


def layers(impl):
    return checkpointing_layers(impl.GradientCheckpointingLayer)


def build(impl, kind: str, *args, **kwargs):
    return layers(impl)[kind](*args, **kwargs).to(runtime.device())


def inputs(lead, width, seed, n: int, grads: tuple[bool, ...]):
    return [make_tensor((*lead, width), seed + i, device=runtime.device(), requires_grad=grads[i]) for i in range(n)]


def twin_inputs(xs):
    return [x.detach().clone().requires_grad_(x.requires_grad) for x in xs]


def run(layer, xs, upstream, seed, **kwargs):
    """Forward (RNG seeded), backward with ``upstream``; returns the output and every gradient."""
    seed_all(seed)
    out = layer(*xs, **kwargs)
    if out.requires_grad:
        out.backward(upstream)
    grads = {f"input #{i}": x.grad for i, x in enumerate(xs)}
    grads.update({f"parameter {name}": p.grad for name, p in layer.named_parameters()})
    return out.detach(), grads


def assert_runs_equal(plain, ckpt, xs, lead, width, seed, call: str) -> None:
    """``plain`` on ``xs`` and ``ckpt`` on their twins, with the same RNG seed and upstream gradient, give
    the same output and the same gradients exactly; a gradient absent in one run is absent in the other."""
    upstream = make_tensor((*lead, width), seed + 9, device=runtime.device())
    out_p, grads_p = run(plain, xs, upstream, seed)
    out_c, grads_c = run(ckpt, twin_inputs(xs), upstream, seed)
    assert_equal(out_c, out_p, what="checkpointed output", call=call)
    for name, g in grads_p.items():
        got = grads_c[name]
        if g is None:
            assert got is None, f"{name} has a gradient only when checkpointed [{call}]"
        else:
            assert got is not None, f"{name} lost its gradient when checkpointed [{call}]"
            assert_equal(got, g, what=f"gradient of {name}", call=call)


@given(width=widths, lead=leading_dims(max_rank=2), seed=seeds())
@every_lead(max_rank=2, width=4, seed=0)  # every class of leading dims, in every run
def test_off_by_default(impl, width, lead, seed):
    """A fresh layer has ``gradient_checkpointing == False`` and, training, calls forward once per call,
    with no recomputation in backward."""
    layer = build(impl, "MLP", width).train()
    assert layer.gradient_checkpointing is False, "gradient_checkpointing is not False on a fresh layer"
    (x,) = inputs(lead, width, seed, 1, (True,))
    layer(x).sum().backward()
    assert_equal(layer.calls, 1, what="forward calls (forward + backward)", call="MLP(...).train()(x)")


@pytest.mark.parametrize("use_reentrant", REENTRANT)
@given(
    width=widths,
    lead=leading_dims(max_rank=2),
    n=st.integers(1, 2),
    grads=st.tuples(st.booleans(), st.booleans()),
    dropout=st.sampled_from([0.0, 0.5]),
    frozen=st.booleans(),
    seed=seeds(),
)
@every_lead(
    max_rank=2, width=4, n=2, grads=(True, False), dropout=0.5, frozen=False, seed=0
)  # every class of leading dims, in every run
def test_checkpointed_equals_plain(impl, use_reentrant, width, lead, n, grads, dropout, frozen, seed):
    """Enabled, training and with gradients on, the output, the input gradients and the parameter
    gradients equal the plain run's exactly (float32), with dropout too: the RNG state is replayed in the
    recomputation.  (With ``use_reentrant=True`` the first input requires grad, as torch needs.)"""
    if use_reentrant:
        grads = (True, grads[1])
    plain = build(impl, "MLP", width, dropout).train()
    plain.requires_grad_(not frozen)
    ckpt = enable_checkpointing(copy.deepcopy(plain), use_reentrant)
    xs = inputs(lead, width, seed, n, grads)
    call = (
        f"MLP(width={width}, dropout={dropout}) on {n} input(s) {lead}, use_reentrant={use_reentrant}, frozen={frozen}"
    )
    assert_runs_equal(plain, ckpt, xs, lead, width, seed, call)


@pytest.mark.parametrize("use_reentrant", REENTRANT)
@given(width=widths, lead=leading_dims(max_rank=2), seed=seeds())
@every_lead(max_rank=2, width=4, seed=0)  # every class of leading dims, in every run
def test_backward_recomputes_the_forward(impl, use_reentrant, width, lead, seed):
    """Checkpointing is real: forward runs once in the forward pass and once more in backward."""
    layer = enable_checkpointing(build(impl, "MLP", width).train(), use_reentrant)
    (x,) = inputs(lead, width, seed, 1, (True,))
    out = layer(x)
    call = f"checkpointed MLP(width={width}), use_reentrant={use_reentrant}"
    assert_equal(layer.calls, 1, what="forward calls after the forward pass", call=call)
    out.sum().backward()
    assert_equal(layer.calls, 2, what="forward calls after backward", call=call)


def saved_bytes(fn) -> int:
    """Bytes of the tensors autograd saves for backward while ``fn`` runs (outside any checkpoint)."""
    total = 0

    def pack(t):
        nonlocal total
        total += t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn()
    return total


@pytest.mark.parametrize("use_reentrant", REENTRANT)
@given(width=st.integers(4, 8), depth=st.integers(2, 4), batch=st.integers(4, 16), seed=seeds())
def test_checkpointing_saves_fewer_activations(impl, use_reentrant, width, depth, batch, seed):
    """For a stack of layers, the tensors saved for backward during the forward pass take less memory
    with checkpointing than without (measured with saved_tensors_hooks, not wall time)."""
    plain = build(impl, "Sequential", width, depth).train()
    ckpt = enable_checkpointing(copy.deepcopy(plain), use_reentrant)
    (x,) = inputs((batch,), width, seed, 1, (True,))
    plain_bytes = saved_bytes(lambda: plain(x))
    ckpt_bytes = saved_bytes(lambda: ckpt(x))
    assert ckpt_bytes < plain_bytes, (
        f"checkpointing saved {ckpt_bytes} bytes for backward, plain {plain_bytes} "
        f"[Sequential(width={width}, depth={depth}) on ({batch}, {width}), use_reentrant={use_reentrant}]"
    )


MODES = [pytest.param("eval", id="eval"), pytest.param("no_grad", id="no_grad")]


class CacheSentinel:
    """Stands for a cache object."""

    def __repr__(self) -> str:
        return "<cache>"


# an implementation that does checkpoint here (4.57 under no_grad) makes torch warn; the property judges it
@pytest.mark.filterwarnings("ignore:None of the inputs have requires_grad=True:UserWarning")
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("use_reentrant", REENTRANT)
@given(width=widths, lead=leading_dims(max_rank=2), seed=seeds())
@every_lead(max_rank=2, width=4, seed=0)  # every class of leading dims, in every run
def test_no_checkpointing_outside_training_with_grad(impl, mode, use_reentrant, width, lead, seed):
    """In eval mode, or under ``torch.no_grad()``, an enabled layer runs as is: forward once, the plain
    output, and cache arguments passed through untouched (there is no backward to replay)."""
    plain = build(impl, "Caching", width)
    ckpt = enable_checkpointing(copy.deepcopy(plain), use_reentrant)
    (x,) = inputs(lead, width, seed, 1, (mode == "eval",))
    cache = {name: CacheSentinel() for name in cache_kwargs(impl)}
    for layer in (plain, ckpt):
        layer.train(mode != "eval")
    with torch.set_grad_enabled(mode != "no_grad"):
        out_p = plain(x, use_cache=True, **cache)
        out_c = ckpt(x, use_cache=True, **cache)
    call = f"checkpointing layer in {mode} mode, use_reentrant={use_reentrant}, called with use_cache=True and {sorted(cache)}"
    assert_equal(ckpt.calls, 1, what="forward calls", call=call)
    assert_equal(out_c.detach(), out_p.detach(), what="output", call=call)
    seen = ckpt.seen_kwargs[-1]
    assert_equal(seen.get("use_cache"), True, what="use_cache seen by forward", call=call)
    for name, value in cache.items():
        assert seen.get(name) is value, (
            f"forward saw {name}={seen.get(name)!r}, but should see the cache passed [{call}]"
        )


@pytest.mark.parametrize("use_reentrant", REENTRANT)
@given(
    width=widths,
    lead=leading_dims(max_rank=2),
    scale=st.sampled_from([1.0, -2.0, 0.5]),
    enabled=st.booleans(),
    seed=seeds(),
)
@every_lead(max_rank=2, width=4, scale=-2.0, enabled=True, seed=0)  # every class of leading dims, in every run
def test_keyword_arguments_reach_forward_unchanged(impl, use_reentrant, width, lead, scale, enabled, seed):
    """Keyword arguments other than the cache ones reach forward unchanged, checkpointed or not (a
    float, a string and a tensor), and take effect."""
    layer = build(impl, "MLP", width).train()
    if enabled:
        enable_checkpointing(layer, use_reentrant)
    (x,) = inputs(lead, width, seed, 1, (True,))
    extra = torch.arange(3.0, device=runtime.device())
    out = layer(x, scale=scale, tag="t", extra=extra)
    seen = layer.seen_kwargs[0]
    call = f"MLP(width={width})(x, scale={scale}, tag='t', extra=tensor), checkpointing={enabled}"
    assert_equal(seen.get("scale"), scale, what="scale seen by forward", call=call)
    assert_equal(seen.get("tag"), "t", what="tag seen by forward", call=call)
    assert seen.get("extra") is extra, f"forward saw extra={seen.get('extra')!r}, not the tensor passed [{call}]"
    unscaled = layer(x, scale=1.0)
    assert_equal(out.detach(), unscaled.detach() * scale, what="output with scale", call=call)


@given(width=widths, lead=leading_dims(max_rank=2), seed=seeds())
@every_lead(max_rank=2, width=4, seed=0)  # every class of leading dims, in every run
def test_reentrant_positional_input_gets_its_gradient(impl, width, lead, seed):
    """The documented working path: with ``use_reentrant=True``, a grad-requiring tensor passed
    positionally (parameters frozen, so it is the only way back) gets the plain run's gradient."""
    plain = build(impl, "MLP", width).train().requires_grad_(False)
    ckpt = enable_checkpointing(copy.deepcopy(plain), use_reentrant=True)
    (x,) = inputs(lead, width, seed, 1, (True,))
    (x2,) = twin_inputs([x])
    plain(x).sum().backward()
    ckpt(x2).sum().backward()
    call = f"checkpointed MLP(width={width}) with frozen parameters, use_reentrant=True, x positional"
    assert x2.grad is not None, f"the positional input got no gradient [{call}]"
    assert_equal(x2.grad, x.grad, what="gradient of the positional input", call=call)


@pytest.mark.filterwarnings("ignore:None of the inputs have requires_grad=True:UserWarning")  # the caveat itself
@given(width=widths, lead=leading_dims(max_rank=2), both=st.booleans(), seed=seeds())
@every_lead(max_rank=2, width=4, both=True, seed=0)  # every class of leading dims, in every run
def test_reentrant_keyword_input_gradient_is_right_or_absent(impl, width, lead, both, seed):
    """The documented caveat: with ``use_reentrant=True`` a grad-requiring tensor passed as a keyword may
    not get gradients.  What each implementation does is observed (and reported in the summary); whatever
    it is, the output is the plain one and each gradient is either the plain run's or absent -- never a
    wrong one."""
    plain = build(impl, "MLP", width).train().requires_grad_(False)
    ckpt = enable_checkpointing(copy.deepcopy(plain), use_reentrant=True)
    xs = inputs(lead, width, seed, 2 if both else 1, (True, True))
    twins = twin_inputs(xs)
    names = ("x", "y")[: len(xs)]
    plain(**dict(zip(names, xs, strict=True))).sum().backward()
    out = ckpt(**dict(zip(names, twins, strict=True)))
    call = f"checkpointed MLP(width={width}) with frozen parameters, use_reentrant=True, {', '.join(names)} by keyword"
    assert_equal(out.detach(), plain(**dict(zip(names, xs, strict=True))).detach(), what="output", call=call)
    if out.requires_grad:
        out.sum().backward()
    observe(
        impl.name,
        "reentrant checkpointing, grad-requiring input passed by keyword",
        "gradient reaches it" if twins[0].grad is not None else "no gradient (output does not require grad)",
    )
    for name, x, twin in zip(names, xs, twins, strict=True):
        if twin.grad is not None:
            assert_equal(twin.grad, x.grad, what=f"gradient of keyword input {name}", call=call)


@pytest.mark.parametrize("use_reentrant", REENTRANT)
@given(width=widths, lead=leading_dims(max_rank=2), seed=seeds())
@every_lead(max_rank=2, width=4, seed=0)  # every class of leading dims, in every run
def test_cache_is_turned_off_while_checkpointing(impl, use_reentrant, width, lead, seed):
    """While checkpointing in training, ``use_cache=True`` reaches forward as False and every cache
    argument the implementation names (4.57.x: ``past_key_value``, ``past_key_values``, ``layer_past``;
    5.x: ``cache``, ``layer_past``; the reference: all four) as None; other keywords pass through.  With
    checkpointing off they all pass through."""
    names = cache_kwargs(impl)
    for enabled in (False, True):
        layer = build(impl, "Caching", width).train()
        if enabled:
            enable_checkpointing(layer, use_reentrant)
        (x,) = inputs(lead, width, seed, 1, (True,))
        cache = {name: CacheSentinel() for name in names}
        layer(x, use_cache=True, other="kept", **cache)
        seen = layer.seen_kwargs[0]
        call = f"Caching layer, checkpointing={enabled}, use_reentrant={use_reentrant}, cache kwargs {list(names)}"
        assert_equal(seen.get("use_cache"), not enabled, what="use_cache seen by forward", call=call)
        assert_equal(seen.get("other"), "kept", what="other keyword seen by forward", call=call)
        for name, value in cache.items():
            expected = None if enabled else value
            assert seen.get(name) is expected, (
                f"forward saw {name}={seen.get(name)!r}, but should see {expected!r} [{call}]"
            )


@pytest.mark.parametrize("use_reentrant", REENTRANT)
@given(width=widths, lead=leading_dims(max_rank=2), seed=seeds())
@every_lead(max_rank=2, width=4, seed=0)  # every class of leading dims, in every run
def test_subclass_of_a_layer_checkpoints_once(impl, use_reentrant, width, lead, seed):
    """A subclass whose forward calls its parent's is checkpointed once: forward runs twice in all
    (forward pass and recomputation), not three times, with the plain results."""
    plain = build(impl, "Derived", width).train()
    ckpt = enable_checkpointing(copy.deepcopy(plain), use_reentrant)
    call = f"checkpointed subclass of MLP(width={width}), use_reentrant={use_reentrant}"
    assert_runs_equal(plain, ckpt, inputs(lead, width, seed, 1, (True,)), lead, width, seed, call)
    assert_equal(ckpt.calls, 2, what="forward calls (forward pass + recomputation)", call=call)


# reentrant inner checkpoints run inside the outer one's no_grad forward: torch warns, results stay exact
@pytest.mark.filterwarnings("ignore:None of the inputs have requires_grad=True:UserWarning")
@pytest.mark.parametrize("use_reentrant", REENTRANT)
@given(width=widths, depth=st.integers(1, 3), lead=leading_dims(max_rank=2), seed=seeds())
@every_lead(max_rank=2, width=4, depth=2, seed=0)  # every class of leading dims, in every run
def test_nested_checkpointing_layers_equal_plain(impl, use_reentrant, width, depth, lead, seed):
    """A checkpointing layer made of checkpointing layers, all enabled, gives the plain output and
    gradients exactly (the inner layers may be recomputed more than once; results never change)."""
    plain = build(impl, "Stack", width, depth).train()
    ckpt = enable_checkpointing(copy.deepcopy(plain), use_reentrant)
    call = f"nested checkpointing Stack(width={width}, depth={depth}), use_reentrant={use_reentrant}"
    assert_runs_equal(plain, ckpt, inputs(lead, width, seed, 1, (True,)), lead, width, seed, call)


def test_forward_keeps_its_name_doc_and_signature(impl):
    """Deriving from GradientCheckpointingLayer leaves a layer's forward introspectable: its name,
    docstring and signature are the ones the subclass wrote (code such as apply_chunking_to_forward
    counts a forward's parameters with inspect.signature)."""
    mlp = layers(impl)["MLP"]
    forward = mlp(2).forward
    call = "inspect.signature(MLP(2).forward)"
    assert_equal(forward.__name__, "forward", what="forward.__name__", call=call)
    assert_equal(forward.__doc__, "The MLP block's forward.", what="forward.__doc__", call=call)
    assert_equal(
        list(inspect.signature(forward).parameters), ["x", "y", "scale", "kwargs"], what="parameters", call=call
    )


_fresh = itertools.count()


@pytest.mark.parametrize("use_reentrant", REENTRANT)
@given(width=widths, seed=seeds())
def test_turning_caching_off_is_warned_about(impl, use_reentrant, width, seed):
    """While checkpointing turns caching off, a warning says so, at most once per layer class (each example
    uses a new class): the first call that turns caching off warns, later ones -- of the same layer or of
    another layer of the class -- do not; a call with nothing to turn off warns nothing."""
    base = layers(impl)["Caching"]
    cls = type(f"CachingLayer{next(_fresh)}", (base,), {})
    layer = enable_checkpointing(cls(width).to(runtime.device()).train(), use_reentrant)
    (x,) = inputs((2,), width, seed, 1, (True,))
    loggers = impl.hook("LOGGERS", ("",))
    with captured_warnings(loggers) as quiet:
        layer(x)
    assert not quiet, f"warned although nothing was turned off: {quiet} [{cls.__name__}(x), checkpointing]"
    with captured_warnings(loggers) as warned:
        layer(x, use_cache=True)
    assert warned, f"turned use_cache off without a warning [{cls.__name__}(x, use_cache=True), checkpointing]"
    other = enable_checkpointing(cls(width).to(runtime.device()).train(), use_reentrant)
    with captured_warnings(loggers) as again:
        layer(x, use_cache=True)
        other(x, use_cache=True)
    assert not again, (
        f"warned again for the same layer class: {again} [{cls.__name__}(x, use_cache=True) twice more, "
        "on the same layer and on another one of the class, checkpointing]"
    )
