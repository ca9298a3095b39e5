"""Attention backends: eager_attention_forward, sdpa_attention_forward and every registered backend.

Call form ``fn(module, query, key, value, attention_mask, scaling=..., dropout=0.0, **kwargs)``
with query ``[batch, heads, q_len, head_dim]``, key/value ``[batch, kv_heads,
kv_len, head_dim]`` (``heads = kv_heads * module.num_key_value_groups``);
output ``[batch, q_len, heads, head_dim]``.  Each property taking ``backend``
runs for every selected backend (``--attention-backend``; eager and sdpa by
default) and reads what that backend documents from its capabilities
(:class:`layer_conformance.contract.Backend`): the mask form it takes, the
second value it returns, its dropout rule, soft-capping and sinks.  Query rows
whose keys are all masked have no defined output (eager averages all values,
sdpa may give NaN or zeros): every comparison leaves them out.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import math

import pytest
import torch
from hypothesis import given, note
from hypothesis import strategies as st

from layer_conformance import reference, runtime
from layer_conformance.backends import Resolved, resolve
from layer_conformance.contract import BACKENDS, Backend
from layer_conformance.implementation import Implementation
from layer_conformance.impls import load_implementation
from layer_conformance.missing import missing
from layer_conformance.strategies import (
    MASK_KINDS,
    attention_cases,
    attention_module,
    dtypes,
    make_tensor,
    seeds,
)
from layer_conformance.strategies.attention import AttentionCase, pinned_cases
from layer_conformance.support.attention import (
    as_mask,
    attended,
    backend_module,
    backend_of,
    builder_kwargs,
    builder_of,
    call,
    definition,
    expressible,
    mask_for,
    running,
)
from layer_conformance.support.checks import (
    as_tensor_result,
    assert_close,
    assert_equal,
    assert_rejects,
    backend_property,
    requires,
)
from layer_conformance.support.masks import (
    CAUSAL_FAMILY,
    PHASES,
    draw_case,
    expected_mask,
    mask_functions,
    pinned_examples,
)
from layer_conformance.support.tolerances import measured


def describe_call(caps: Backend, case: AttentionCase, dtype, extra: str = "") -> str:
    return f"{caps.label}({case.describe()}, {str(dtype).removeprefix('torch.')}{extra})"


def assert_matches_definition(out, case: AttentionCase, q, k, v, *, dtype, what: str, call: str, **features) -> None:
    """The attended rows of ``out`` equal the float64 definition of ``case`` (its mask, groups, scaling and
    any soft cap or sinks)."""
    device = runtime.device()
    with torch.no_grad():
        expected = definition(case, q, k, v, case.bias(torch.float64, device), **features)
    assert_close(
        attended(out, case, device).double(),
        attended(expected, case, device),
        kind="attention_fp64",
        dtype=dtype,
        what=what,
        call=call,
    )


# --------------------------------------------------------------------------- every backend


@backend_property()
@given(case=attention_cases(), dtype=dtypes(allow_half=True, allow_float64=True))
@pinned_cases(
    dtype=torch.float32, more_dtypes=(torch.float64, torch.float16, torch.bfloat16)
)  # every regime and dtype, in every run
def test_output_layout(impl, backend, case, dtype):
    """The output has shape [batch, q_len, heads, head_dim], the query's dtype and device, and is
    contiguous; the second value is what the backend declares: the attention weights [batch, heads, q_len,
    kv_len] (eager), None (sdpa, flash), or the log-sum-exp of each row [batch, heads, q_len] (flex off the
    CPU)."""
    b = backend_of(impl, backend)
    case = expressible(b.caps, case)
    device = runtime.device()
    q, k, v = case.qkv(dtype, device)
    result = call(impl, b, case, q, k, v, dtype=dtype, device=device)
    what = describe_call(b.caps, case, dtype)
    assert isinstance(result, tuple) and len(result) == 2, (
        f"returned {type(result).__name__}, but should return (output, {b.caps.weights}) [{what}]"
    )
    out, second = result
    out = as_tensor_result(out, what="output", call=what)
    assert_equal(tuple(out.shape), (case.batch, case.q_len, case.heads, case.head_dim), what="output shape", call=what)
    assert_equal(out.dtype, dtype, what="output dtype", call=what)
    assert_equal(out.device, q.device, what="output device", call=what)
    assert out.is_contiguous(), f"output is not contiguous [{what}]"
    if b.caps.weights == "none":
        assert second is None, f"returned {type(second).__name__} as second value, but declares none [{what}]"
        return
    shape = (case.batch, case.heads, case.q_len) + ((case.kv_len,) if b.caps.weights == "weights" else ())
    second = as_tensor_result(second, what=f"the {b.caps.weights}", call=what)
    assert_equal(tuple(second.shape), shape, what=f"{b.caps.weights} shape", call=what)


@backend_property()
@given(case=attention_cases(), dtype=dtypes(allow_half=True, allow_float64=True))
@pinned_cases(
    dtype=torch.float32, more_dtypes=(torch.float64, torch.float16, torch.bfloat16)
)  # every regime and dtype, in every run
def test_matches_float64_definition(impl, backend, case, dtype):
    """The output equals ``softmax(q k^T * scaling + mask) v`` computed in float64, with key/value head
    ``h // groups`` serving query head ``h`` (grouped-query attention), for every mask style the backend
    takes (none, causal, boolean, additive biases), custom scaling and q_len != kv_len (causal: aligned to
    the upper left)."""
    b = backend_of(impl, backend)
    case = expressible(b.caps, case)
    device = runtime.device()
    q, k, v = case.qkv(dtype, device)
    out, _ = call(impl, b, case, q, k, v, dtype=dtype, device=device)
    what = describe_call(b.caps, case, dtype)
    assert_matches_definition(out, case, q, k, v, dtype=dtype, what="output vs float64 definition", call=what)


@backend_property()
@given(case=attention_cases(no_empty_rows=True), dtype=st.sampled_from([torch.float32, torch.float64]), seed=seeds())
@pinned_cases(no_empty_rows=True, dtype=torch.float32, seed=0)  # every regime of the cases, in every run
def test_gradients_match_the_definition(impl, backend, case, dtype, seed):
    """The gradients of query, key and value equal those of the float64 definition, for the attended rows
    and any upstream gradient; a backend that declares no backward (flex on the CPU) raises an error naming
    it instead."""
    b = backend_of(impl, backend)
    case = expressible(b.caps, case)
    device = runtime.device()
    if not measured("attention_grad_fp64", dtype, device):
        pytest.skip(f"no measured attention_grad_fp64 tolerance for {dtype} on {device.type} yet")
    q, k, v = case.qkv(dtype, device, requires_grad=True)
    what = describe_call(b.caps, case, dtype)
    if b.caps.backward == "rejected":

        def backward():
            out, _ = call(impl, b, case, q, k, v, dtype=dtype, device=device)
            return torch.autograd.grad(out.sum(), (q, k, v))

        assert_rejects(backward, feature=("backward", "grad"), what="backward", call=what)
        return
    out, _ = call(impl, b, case, q, k, v, dtype=dtype, device=device)
    rows = attended(out, case, device)
    upstream = make_tensor(tuple(rows.shape), seed, dtype, device)
    grads = torch.autograd.grad(rows, (q, k, v), upstream, allow_unused=True)
    expected_rows = attended(definition(case, q, k, v, case.bias(torch.float64, device)), case, device)
    expected = torch.autograd.grad(expected_rows, (q, k, v), upstream.double())
    for label, got, want in zip("qkv", grads, expected, strict=True):
        assert got is not None, f"no gradient for {label}: the output does not depend on it [{what}]"
        assert_close(
            got.double(), want.double(), kind="attention_grad_fp64", dtype=dtype, what=f"gradient of {label}", call=what
        )


@backend_property()
@given(case=attention_cases(styles=("none", "additive", "boolean")), data=st.data())
@pinned_cases(styles=("none", "additive", "boolean"), data=None)  # every regime of the cases, in every run
def test_permuting_keys_and_values_together_changes_nothing(impl, backend, case, data):
    """Attention is a set operation over keys: permuting key and value positions (and the mask columns)
    together leaves the output unchanged."""
    b = backend_of(impl, backend)
    case = expressible(b.caps, case)
    device = runtime.device()
    q, k, v = case.qkv(torch.float32, device)
    order = (
        list(range(case.kv_len))[::-1] if data is None else data.draw(st.permutations(range(case.kv_len)), label="perm")
    )
    perm = torch.tensor(order, device=device)  # the explicit examples (data None) reverse the keys
    out, _ = call(impl, b, case, q, k, v, dtype=torch.float32, device=device)
    keep = case.keep(device)
    bias = case.bias(torch.float32, device) if case.mask_style == "additive" else None
    if bias is not None:
        bias = torch.where(keep, bias, torch.zeros((), device=device))
    permuted = as_mask(
        b.caps,
        None if keep is None else keep[..., perm],
        None if bias is None else bias[..., perm],
        torch.float32,
        device,
    )
    out_p, _ = call(impl, b, case, q, k[:, :, perm], v[:, :, perm], dtype=torch.float32, device=device, mask=permuted)
    what = describe_call(b.caps, case, torch.float32, f", keys permuted by {perm.tolist()}")
    assert_close(attended(out_p, case, device), attended(out, case, device), kind="attention", what="output", call=what)


@backend_property()
@given(case=attention_cases(styles=("none", "additive", "boolean")), data=st.data())
@pinned_cases(styles=("none", "additive", "boolean"), data=None)  # every regime of the cases, in every run
def test_masking_a_key_equals_deleting_it(impl, backend, case, data):
    """A key masked out for every query contributes nothing: the output equals attention over the keys
    and values with that position deleted."""
    b = backend_of(impl, backend)
    case = expressible(b.caps, case)
    if case.kv_len < 2:
        case = dataclasses.replace(case, kv_len=2)
    device = runtime.device()
    q, k, v = case.qkv(torch.float32, device)
    j = 0 if data is None else data.draw(st.integers(0, case.kv_len - 1), label="deleted_key")
    keep = case.keep(device)
    keep = torch.ones(case.batch, 1, case.q_len, case.kv_len, dtype=torch.bool, device=device) if keep is None else keep
    bias = case.bias(torch.float32, device) if case.mask_style == "additive" else None
    bias = torch.zeros(keep.shape, device=device) if bias is None else torch.where(keep, bias, 0.0)
    masked_keep = keep.clone()
    masked_keep[..., j] = False
    others = [i for i in range(case.kv_len) if i != j]
    out_masked, _ = call(
        impl, b, case, q, k, v, dtype=torch.float32, device=device,
        mask=as_mask(b.caps, masked_keep, bias, torch.float32, device),
    )  # fmt: skip
    reduced = as_mask(b.caps, masked_keep[..., others], bias[..., others], torch.float32, device)
    out_deleted, _ = call(
        impl, b, case, q, k[:, :, others], v[:, :, others], dtype=torch.float32, device=device, mask=reduced
    )
    rows = masked_keep.any(-1).squeeze(1)[:, :, None].expand(case.batch, case.q_len, case.heads)
    what = describe_call(b.caps, case, torch.float32, f", key {j} masked vs deleted")
    assert_close(out_masked[rows], out_deleted[rows], kind="attention", what="output", call=what)


def probe(case: AttentionCase, dtype, device) -> tuple[AttentionCase, tuple[torch.Tensor, ...]]:
    """The case with head_dim = kv_len and identity values: the output row of a query is then its attention
    weights over the keys (``weights @ I``)."""
    case = dataclasses.replace(case, head_dim=case.kv_len)
    q, k, _ = case.qkv(dtype, device)
    eye = torch.eye(case.kv_len, dtype=dtype, device=device)
    v = eye.expand(case.batch, case.kv_heads, case.kv_len, case.kv_len).contiguous()
    return case, (q, k, v)


@backend_property()
@given(case=attention_cases(), dtype=dtypes(allow_half=True, allow_float64=True))
@pinned_cases(
    dtype=torch.float32, more_dtypes=(torch.float64, torch.float16, torch.bfloat16)
)  # every regime and dtype, in every run
def test_weights_are_distributions_zero_where_masked(impl, backend, case, dtype):
    """Each attending query's attention weights (read through identity values) sum to one, and a masked key
    gets weight exactly zero; a backend that returns its weights returns these."""
    b = backend_of(impl, backend)
    device = runtime.device()
    case, (q, k, v) = probe(expressible(b.caps, case), dtype, device)
    out, second = call(impl, b, case, q, k, v, dtype=dtype, device=device)
    what = describe_call(b.caps, case, dtype, ", values = identity")
    weights = out.transpose(1, 2)  # [b, h, q, kv]
    rows = case.attended_rows(device).expand(case.batch, case.heads, case.q_len)
    sums = weights.double().sum(-1)[rows]
    assert_close(sums, torch.ones_like(sums), kind="attention", dtype=dtype, what="row sums", call=what)
    keep = case.keep(device)
    if keep is not None:
        masked = (~keep).expand(case.batch, case.heads, case.q_len, case.kv_len) & rows[..., None]
        assert_equal(weights[masked], torch.zeros_like(weights[masked]), what="weights of masked keys", call=what)
    if b.caps.weights == "weights":
        returned = as_tensor_result(second, what="the weights", call=what)
        assert_close(
            returned[rows], weights[rows], kind="attention", dtype=dtype, what="returned weights vs output", call=what
        )


@backend_property()
@given(case=attention_cases(), dtype=dtypes(allow_float64=True))
@pinned_cases(dtype=torch.float32, more_dtypes=(torch.float64,))  # every regime and dtype, in every run
def test_matches_reference(impl, backend, case, dtype):
    """Differential: the output equals the reference's on the same call (the reference's backend of the
    same key, or its eager attention for a key the reference does not register)."""
    b = backend_of(impl, backend)
    case = expressible(b.caps, case)
    device = runtime.device()
    q, k, v = case.qkv(dtype, device)
    out, _ = call(impl, b, case, q, k, v, dtype=dtype, device=device)
    ref = resolve(reference_impl(), b.key, device.type)
    if not isinstance(ref, Resolved):
        ref = resolve(reference_impl(), "eager", device.type)
    expected, _ = call(reference, ref, case, q, k, v, dtype=dtype, device=device)
    note(f"case: {case.describe()}; reference backend {ref.key}")
    assert_close(
        attended(out, case, device),
        attended(expected, case, device),
        kind="attention",
        what=f"output vs reference ({ref.key})",
        call=describe_call(b.caps, case, dtype),
    )


@functools.cache
def reference_impl() -> Implementation:
    return load_implementation("reference")


@backend_property()
@given(case=attention_cases(styles=("none", "additive")))
@pinned_cases(styles=("none", "additive"))  # every regime of the cases, in every run
def test_dropout_defaults_to_zero(impl, backend, case):
    """Without a ``dropout`` argument, a module in training mode gets no dropout: the output equals the
    call with ``dropout=0.0``."""
    b = backend_of(impl, backend)
    case = expressible(b.caps, case)
    device = runtime.device()
    q, k, v = case.qkv(torch.float32, device)
    module = backend_module(b.caps, case.groups, is_causal=False, training=True)
    mask = mask_for(b.caps, case, torch.float32, device)
    with running(b.caps):
        out_default, _ = b.function(module, q, k, v, mask, scaling=case.scaling)
        out_zero, _ = b.function(module, q, k, v, mask, scaling=case.scaling, dropout=0.0)
    what = describe_call(b.caps, case, torch.float32, ", training module, no dropout argument")
    assert_equal(attended(out_default, case, device), attended(out_zero, case, device), what="output", call=what)


#: The dropout property's shape: 4096 weights, so that the share dropped is within 6 standard deviations
#: of p (a chance below 1e-8 per example to miss that by luck).
DROPOUT_CASE = AttentionCase(batch=4, kv_heads=2, groups=2, q_len=16, kv_len=16, head_dim=16, seed=0,
                             mask_style="none", mask_seed=0, scaling=0.5)  # fmt: skip


@backend_property()
@pytest.mark.parametrize("mode", ["training", "eval"])
@given(p=st.sampled_from([0.1, 0.25, 0.5, 0.75]), seed=seeds(), rng=seeds())
def test_dropout_follows_the_declared_rule(impl, backend, mode, p, seed, rng):
    """``dropout=p`` follows the backend's rule: eager drops only when ``module.training``, sdpa whenever
    p > 0, flex rejects p > 0 with an error naming dropout.  Where applied, every weight is dropped (0) or
    scaled by 1 / (1 - p), and the share dropped is within 6 standard deviations of p; where not, the
    output equals the one without dropout."""
    b = backend_of(impl, backend)
    device = runtime.device()
    case, (q, k, v) = probe(dataclasses.replace(DROPOUT_CASE, seed=seed), torch.float32, device)
    module = backend_module(b.caps, case.groups, is_causal=False, training=mode == "training")
    what = describe_call(b.caps, case, torch.float32, f", dropout={p}, module in {mode} mode")
    if b.caps.dropout == "rejected":
        with running(b.caps):
            assert_rejects(b.function, module, q, k, v, None, scaling=case.scaling, dropout=p,
                           feature="dropout", what="dropout > 0", call=what)  # fmt: skip
        return
    torch.random.default_generator.manual_seed(rng)
    with running(b.caps):
        out, _ = b.function(module, q, k, v, None, scaling=case.scaling, dropout=p)
    weights = definition(case, q, k, v, None).transpose(1, 2)  # [b, h, q, kv] float64
    got = out.transpose(1, 2).double()
    applies = b.caps.dropout == "as_given" or mode == "training"
    if not applies:
        assert_close(got, weights, kind="attention_fp64", dtype=torch.float32, what="output (no dropout)", call=what)
        return
    clear = weights > 1e-6  # entries whose survival is unambiguous
    dropped = got == 0
    kept = ~dropped & clear
    assert_close(got[kept], weights[kept] / (1 - p), kind="attention_fp64", dtype=torch.float32,
                 what="surviving weights vs weights / (1 - p)", call=what)  # fmt: skip
    n = int(clear.sum())
    share = float((dropped & clear).sum()) / n
    bound = 6 * math.sqrt(p * (1 - p) / n) + 1 / n
    assert abs(share - p) <= bound, f"dropped {share:.3f} of {n} weights, but p={p} (bound ±{bound:.3f}) [{what}]"


@backend_property()
@given(case=attention_cases(), softcap=st.sampled_from([0.5, 1.0, 5.0, 30.0]))
@pinned_cases(softcap=1.0)  # every regime of the cases, in every run
def test_softcap_follows_the_declared_rule(impl, backend, case, softcap):
    """``softcap=c`` follows the backend's rule: supported (flex, flash) it caps the scores to
    ``c * tanh(scores / c)`` before the mask is added; rejected (sdpa) it raises an error naming softcap;
    ignored (eager) the output equals the one without it."""
    b = backend_of(impl, backend)
    case = expressible(b.caps, case)
    device = runtime.device()
    q, k, v = case.qkv(torch.float32, device)
    what = describe_call(b.caps, case, torch.float32, f", softcap={softcap}")
    if b.caps.softcap == "rejected":
        module = backend_module(b.caps, case.groups, is_causal=case.mask_style == "causal")
        mask = mask_for(b.caps, case, torch.float32, device)
        with running(b.caps):
            assert_rejects(b.function, module, q, k, v, mask, scaling=case.scaling, softcap=softcap,
                           feature="softcap", what="softcap", call=what)  # fmt: skip
        return
    out, _ = call(impl, b, case, q, k, v, dtype=torch.float32, device=device, softcap=softcap)
    features = {"softcap": softcap} if b.caps.softcap == "supported" else {}
    assert_matches_definition(out, case, q, k, v, dtype=torch.float32, call=what, **features,
                              what="soft-capped output" if features else "output (softcap ignored)")  # fmt: skip


@backend_property()
@given(case=attention_cases(), seed=seeds())
@pinned_cases(seed=0)  # every regime of the cases, in every run
def test_sinks_follow_the_declared_rule(impl, backend, case, seed):
    """Attention sinks ``s_aux`` (one logit per query head) follow the backend's rule: supported (flex off
    the CPU) the sink joins every row's softmax and is dropped afterwards; rejected (flex on the CPU) it
    raises an error naming sinks or s_aux; ignored (eager, sdpa) the output equals the one without."""
    b = backend_of(impl, backend)
    case = expressible(b.caps, case)
    device = runtime.device()
    q, k, v = case.qkv(torch.float32, device)
    sinks = make_tensor((case.heads,), seed, torch.float32, device)
    what = describe_call(b.caps, case, torch.float32, f", s_aux={[round(x, 3) for x in sinks.tolist()]}")
    if b.caps.sinks == "rejected":
        module = backend_module(b.caps, case.groups, is_causal=case.mask_style == "causal")
        mask = mask_for(b.caps, case, torch.float32, device)
        with running(b.caps):
            assert_rejects(b.function, module, q, k, v, mask, scaling=case.scaling, s_aux=sinks,
                           feature=("sink", "s_aux"), what="attention sinks", call=what)  # fmt: skip
        return
    out, _ = call(impl, b, case, q, k, v, dtype=torch.float32, device=device, s_aux=sinks)
    features = {"sinks": sinks} if b.caps.sinks == "supported" else {}
    assert_matches_definition(out, case, q, k, v, dtype=torch.float32, call=what, **features,
                              what="output with sinks" if features else "output (sinks ignored)")  # fmt: skip


@backend_property("function", "builder")
@pytest.mark.parametrize("phase", PHASES)
@given(data=st.data(), seed=seeds(), groups=st.integers(1, 2))
@pinned_examples(seed=0, groups=1)  # the pinned calls of the phase (PINNED)
def test_values_under_its_own_builders_mask_match_the_definition(impl, backend, phase, data, seed, groups):
    """With the mask its own mask builder makes, as models call the pair (causal, sliding-window, chunked,
    padding and bidirectional mask functions; prefill and decode; the causal family may skip its mask; a
    window reaches a flash-style backend as ``sliding_window``), the backend's output equals the float64
    definition under the mask function and the 2-D padding mask, on the query rows that attend a key."""
    b = builder_of(impl, backend)
    functions = mask_functions(impl)
    case = draw_case(data, functions, phase, tuple(MASK_KINDS))
    if case is None:
        return
    geo, spec, extra = case
    if b.caps.mask == "padding2d" and spec.kind not in ("causal", "sliding_window_causal"):
        return  # a flash-style backend is causal in its kernel: it has no other mask function
    device = runtime.device()
    causal = spec.kind in CAUSAL_FAMILY or spec.kind in ("causal",)
    kwargs = builder_kwargs(b.caps, causal_family=spec.kind in CAUSAL_FAMILY, local_size=extra.get("local_size"),
                            dtype=torch.float32)  # fmt: skip
    with running(b.caps):
        mask = b.builder(**geo.kwargs(), mask_function=spec.build(functions, device),
                         attention_mask=geo.attention_mask_tensor(device), device=device, **kwargs)  # fmt: skip
    attn_kwargs = {"sliding_window": spec.window} if b.caps.window == "kwarg" and spec.window else {}
    heads, d = 2 * groups, 4
    attention = AttentionCase(geo.batch, 2, groups, geo.q_length, geo.kv_length, d, seed, "none", 0, d**-0.5)
    q, k, v = attention.qkv(torch.float32, device)
    module = backend_module(b.caps, groups, is_causal=causal)
    out, _ = call(impl, b, attention, q, k, v, dtype=torch.float32, device=device, module=module, mask=mask,
                  **attn_kwargs)  # fmt: skip
    truth = expected_mask(spec, geo)  # [b, 1, q, kv]
    zero = torch.zeros((), dtype=torch.float64)
    bias = torch.where(truth, zero, torch.finfo(torch.float64).min).to(device)
    with torch.no_grad():
        expected = definition(attention, q, k, v, bias)
    rows = truth.any(-1).squeeze(1)[:, :, None].expand(geo.batch, geo.q_length, heads).to(device)
    note(f"the builder returned {type(mask).__name__}")
    what = geo.call(b.caps.builder_label, spec.call(), **kwargs) + f" -> {b.caps.label}"
    assert_close(out[rows].double(), expected[rows], kind="attention_fp64", dtype=torch.float32,
                 what="output vs float64 definition", call=what)  # fmt: skip


# --------------------------------------------------------------------------- eager and sdpa by name


@requires("eager_attention_forward", "sdpa_attention_forward")
@given(case=attention_cases(no_empty_rows=True), dtype=dtypes(allow_half=True, allow_float64=True))
@pinned_cases(
    no_empty_rows=True, dtype=torch.float32, more_dtypes=(torch.float64, torch.float16, torch.bfloat16)
)  # every regime and dtype, in every run
def test_eager_equals_sdpa_values_and_gradients(impl, case, dtype):
    """On the same inputs, eager and sdpa agree: outputs and the gradients of q, k and v, for no mask,
    causal, additive and boolean masks and grouped queries.  (Every query attends a key here: a fully
    masked row has undefined values whose NaNs would reach the key and value gradients.)"""
    device = runtime.device()
    q, k, v = case.qkv(dtype, device, requires_grad=True)
    q2, k2, v2 = (t.detach().clone().requires_grad_(True) for t in (q, k, v))
    out_e, _ = call(impl, "eager", case, q, k, v, dtype=dtype, device=device)
    out_s, _ = call(impl, "sdpa", case, q2, k2, v2, dtype=dtype, device=device)
    what = f"eager vs sdpa ({case.describe()}, {dtype})"
    rows_e, rows_s = attended(out_e, case, device), attended(out_s, case, device)
    assert_close(rows_e, rows_s, kind="attention", what="outputs", call=what)
    upstream = torch.ones_like(rows_e)
    grads_e = torch.autograd.grad(rows_e, (q, k, v), upstream, allow_unused=True)
    grads_s = torch.autograd.grad(rows_s, (q2, k2, v2), upstream, allow_unused=True)
    for label, ge, gs in zip("qkv", grads_e, grads_s, strict=True):
        assert ge is not None and gs is not None, f"no gradient for {label} [{what}]"
        assert_close(ge, gs, kind="attention_grad", what=f"gradient of {label}", call=what)


SWITCHES = ["default", "module", "argument", "argument over module"]


@requires("sdpa_attention_forward")
@given(case=attention_cases(styles=("none",)), switch=st.sampled_from(SWITCHES))
@pinned_cases(styles=("none",), switch=SWITCHES[0])  # every regime of the cases, in every run
def test_sdpa_without_mask_is_causal_unless_turned_off(impl, case, switch):
    """With no mask, sdpa is causal (aligned to the upper left) when there is more than one query; a single
    query attends every key; ``module.is_causal = False`` or ``is_causal=False`` turns causality off, the
    argument over the module's attribute (a module with ``is_causal = True`` called with ``is_causal=False``
    is not causal)."""
    device = runtime.device()
    q, k, v = case.qkv(torch.float32, device)
    module_flag = {"module": False, "argument over module": True}.get(switch)
    module = attention_module(case.groups, is_causal=module_flag)
    kwargs = {"is_causal": False} if switch.startswith("argument") else {}
    out, _ = impl.sdpa_attention_forward(module, q, k, v, None, scaling=case.scaling, **kwargs)
    causal = switch == "default" and case.q_len > 1
    expected_case = dataclasses.replace(case, mask_style="causal" if causal else "none")
    what = f"sdpa_attention_forward({case.describe()}, mask None, is_causal via {switch})"
    assert_matches_definition(
        out, expected_case, q, k, v, dtype=torch.float32, what="causal" if causal else "full attention", call=what
    )


@requires("sdpa_attention_forward")
@given(case=attention_cases(styles=("none", "boolean"), max_groups=1))
@pinned_cases(styles=("none", "boolean"), max_groups=1)  # every regime of the cases, in every run
def test_sdpa_module_without_groups_attribute_repeats_nothing(impl, case):
    """A module without ``num_key_value_groups`` (an encoder's, say) gets plain attention from sdpa: each
    query head reads the key/value head of the same index."""
    device = runtime.device()
    q, k, v = case.qkv(torch.float32, device)
    module = torch.nn.Module()
    module.is_causal = False
    mask = case.keep(device)
    out, _ = impl.sdpa_attention_forward(module, q, k, v, mask, scaling=case.scaling)
    what = f"sdpa_attention_forward(module without num_key_value_groups, {case.describe()})"
    assert_matches_definition(out, case, q, k, v, dtype=torch.float32, what="output", call=what)


@requires("sdpa_attention_forward")
@given(
    case=attention_cases(),
    dtype=dtypes(allow_float64=True),
    bias_batch=st.booleans(),
    bias_heads=st.booleans(),
    seed=seeds(),
)
@pinned_cases(dtype=torch.float32, more_dtypes=(torch.float64,), bias_batch=True, bias_heads=False, seed=0)
def test_sdpa_position_bias_is_added_to_the_scores(impl, case, dtype, bias_batch, bias_heads, seed):
    """``position_bias`` (a learned relative-position bias of shape ``[batch or 1, heads or 1, q_len,
    kv_len]``) is added to the attention scores: sdpa's output equals ``softmax(q k^T * scaling + mask +
    position_bias) v`` in float64, for no mask, causal (the bias on the causal keys), additive and boolean
    masks and grouped queries; masked keys stay masked."""
    fn = impl.sdpa_attention_forward
    if "position_bias" not in inspect.signature(fn).parameters:
        missing("sdpa_attention_forward(position_bias)", impl)
    device = runtime.device()
    q, k, v = case.qkv(dtype, device)
    shape = (case.batch if bias_batch else 1, case.heads if bias_heads else 1, case.q_len, case.kv_len)
    position_bias = make_tensor(shape, seed, dtype, device)
    module = attention_module(case.groups, is_causal=case.mask_style == "causal")
    mask = mask_for(BACKENDS["sdpa"], case, dtype, device)
    out, _ = fn(module, q, k, v, mask, scaling=case.scaling, position_bias=position_bias)
    bias = case.bias(torch.float64, device)
    bias = position_bias.double() if bias is None else bias + position_bias.double()
    expected = definition(case, q, k, v, bias)
    what = f"sdpa_attention_forward({case.describe()}, {dtype}, position_bias of shape {list(shape)})"
    assert_close(
        attended(out, case, device).double(),
        attended(expected, case, device),
        kind="attention_fp64",
        dtype=dtype,
        what="output vs float64 definition with the bias",
        call=what,
    )
