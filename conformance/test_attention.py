"""Attention functions: eager_attention_forward and sdpa_attention_forward.

Call form ``fn(module, query, key, value, attention_mask, scaling=..., dropout=0.0)``
with query ``[batch, heads, q_len, head_dim]``, key/value ``[batch, kv_heads,
kv_len, head_dim]`` (``heads = kv_heads * module.num_key_value_groups``);
output ``[batch, q_len, heads, head_dim]``.  Query rows whose keys are all masked
have no defined output (eager averages all values, sdpa may give NaN or zeros):
every comparison leaves them out.
"""

from __future__ import annotations

import dataclasses
import inspect

import pytest
import torch
from hypothesis import given, note
from hypothesis import strategies as st

from layer_conformance import reference
from layer_conformance.strategies import attention_cases, attention_module, dtypes, make_tensor, seeds
from layer_conformance.strategies.attention import AttentionCase
from layer_conformance.support import runtime
from layer_conformance.support.attention import attended, call, definition, mask_for
from layer_conformance.support.checks import as_tensor_result, assert_close, assert_equal, requires

FUNCTIONS = [
    pytest.param("eager_attention_forward", marks=requires("eager_attention_forward"), id="eager"),
    pytest.param("sdpa_attention_forward", marks=requires("sdpa_attention_forward"), id="sdpa"),
]


def assert_matches_definition(out, case: AttentionCase, q, k, v, *, dtype, what: str, call: str) -> None:
    """The attended rows of ``out`` equal the float64 definition of ``case`` (its mask, groups, scaling)."""
    device = runtime.device()
    expected = definition(case, q, k, v, case.bias(torch.float64, device))
    assert_close(
        attended(out, case, device).double(),
        attended(expected, case, device),
        kind="attention_fp64",
        dtype=dtype,
        what=what,
        call=call,
    )


@pytest.mark.parametrize("name", FUNCTIONS)
@given(case=attention_cases(), dtype=dtypes(allow_half=True, allow_float64=True))
def test_output_layout(impl, name, case, dtype):
    """The output has shape [batch, q_len, heads, head_dim], the query's dtype and device, and is
    contiguous; eager also returns weights [batch, heads, q_len, kv_len], sdpa returns None for them."""
    device = runtime.device()
    q, k, v = case.qkv(dtype, device)
    result = call(impl, name, case, q, k, v, dtype=dtype, device=device)
    what = f"{name}({case.describe()}, {dtype})"
    assert isinstance(result, tuple) and len(result) == 2, (
        f"returned {type(result).__name__}, but should return (output, weights) [{what}]"
    )
    out, weights = result
    out = as_tensor_result(out, what="output", call=what)
    assert_equal(tuple(out.shape), (case.batch, case.q_len, case.heads, case.head_dim), what="output shape", call=what)
    assert_equal(out.dtype, dtype, what="output dtype", call=what)
    assert_equal(out.device, q.device, what="output device", call=what)
    assert out.is_contiguous(), f"output is not contiguous [{what}]"
    if name.startswith("eager"):
        assert weights is not None, f"eager returned no attention weights [{what}]"
        assert_equal(
            tuple(weights.shape), (case.batch, case.heads, case.q_len, case.kv_len), what="weights shape", call=what
        )
    else:
        assert weights is None, (
            f"sdpa returned attention weights {type(weights).__name__}, but should return None [{what}]"
        )


@pytest.mark.parametrize("name", FUNCTIONS)
@given(case=attention_cases(), dtype=dtypes(allow_half=True, allow_float64=True))
def test_matches_float64_definition(impl, name, case, dtype):
    """The output equals ``softmax(q k^T * scaling + mask) v`` computed in float64, with key/value head
    ``h // groups`` serving query head ``h`` (grouped-query attention), for every mask style, custom
    scaling and q_len != kv_len (causal: aligned to the upper left)."""
    device = runtime.device()
    q, k, v = case.qkv(dtype, device)
    out, _ = call(impl, name, case, q, k, v, dtype=dtype, device=device)
    what = f"{name}({case.describe()}, {dtype})"
    assert_matches_definition(out, case, q, k, v, dtype=dtype, what="output vs float64 definition", call=what)


@requires("eager_attention_forward", "sdpa_attention_forward")
@given(case=attention_cases(), dtype=dtypes(allow_half=True, allow_float64=True))
def test_eager_equals_sdpa_values_and_gradients(impl, case, dtype):
    """On the same inputs, eager and sdpa agree: outputs and the gradients of q, k and v, for no mask,
    causal, additive and boolean masks and grouped queries.  (Every query attends a key here: a fully
    masked row has undefined values whose NaNs would reach the key and value gradients.)"""
    case = dataclasses.replace(case, no_empty_rows=True)
    device = runtime.device()
    q, k, v = case.qkv(dtype, device, requires_grad=True)
    q2, k2, v2 = (t.detach().clone().requires_grad_(True) for t in (q, k, v))
    out_e, _ = call(impl, "eager_attention_forward", case, q, k, v, dtype=dtype, device=device)
    out_s, _ = call(impl, "sdpa_attention_forward", case, q2, k2, v2, dtype=dtype, device=device)
    what = f"eager vs sdpa ({case.describe()}, {dtype})"
    rows_e, rows_s = attended(out_e, case, device), attended(out_s, case, device)
    assert_close(rows_e, rows_s, kind="attention", what="outputs", call=what)
    upstream = torch.ones_like(rows_e)
    grads_e = torch.autograd.grad(rows_e, (q, k, v), upstream, allow_unused=True)
    grads_s = torch.autograd.grad(rows_s, (q2, k2, v2), upstream, allow_unused=True)
    for label, ge, gs in zip("qkv", grads_e, grads_s, strict=True):
        assert ge is not None and gs is not None, f"no gradient for {label} [{what}]"
        assert_close(ge, gs, kind="attention_grad", what=f"gradient of {label}", call=what)


@pytest.mark.parametrize("name", FUNCTIONS)
@given(case=attention_cases(styles=("none", "additive", "boolean")), data=st.data())
def test_permuting_keys_and_values_together_changes_nothing(impl, name, case, data):
    """Attention is a set operation over keys: permuting key and value positions (and the mask columns)
    together leaves the output unchanged."""
    device = runtime.device()
    q, k, v = case.qkv(torch.float32, device)
    perm = torch.tensor(data.draw(st.permutations(range(case.kv_len)), label="perm"), device=device)
    out, _ = call(impl, name, case, q, k, v, dtype=torch.float32, device=device)
    mask = mask_for(name, case, torch.float32, device)
    permuted_mask = None if mask is None else mask[..., perm]
    out_p, _ = call(
        impl, name, case, q, k[:, :, perm], v[:, :, perm], dtype=torch.float32, device=device, mask=permuted_mask
    )
    what = f"{name}({case.describe()}) with keys permuted by {perm.tolist()}"
    assert_close(attended(out_p, case, device), attended(out, case, device), kind="attention", what="output", call=what)


@pytest.mark.parametrize("name", FUNCTIONS)
@given(case=attention_cases(styles=("none", "additive", "boolean")), data=st.data())
def test_masking_a_key_equals_deleting_it(impl, name, case, data):
    """A key masked out for every query contributes nothing: the output equals attention over the keys
    and values with that position deleted."""
    if case.kv_len < 2:
        case = dataclasses.replace(case, kv_len=2)
    device = runtime.device()
    q, k, v = case.qkv(torch.float32, device)
    j = data.draw(st.integers(0, case.kv_len - 1), label="deleted_key")
    keep = case.keep(device)
    keep = torch.ones(case.batch, 1, case.q_len, case.kv_len, dtype=torch.bool, device=device) if keep is None else keep
    bias = case.bias(torch.float32, device)
    bias = torch.zeros(keep.shape, device=device) if bias is None else bias
    masked_keep = keep.clone()
    masked_keep[..., j] = False
    masked_bias = torch.where(masked_keep, bias, torch.finfo(torch.float32).min)
    others = [i for i in range(case.kv_len) if i != j]
    boolean = name.startswith("sdpa") and case.mask_style == "boolean"
    out_masked, _ = call(
        impl, name, case, q, k, v, dtype=torch.float32, device=device, mask=masked_keep if boolean else masked_bias
    )
    reduced = masked_keep[..., others] if boolean else masked_bias[..., others]
    out_deleted, _ = call(
        impl, name, case, q, k[:, :, others], v[:, :, others], dtype=torch.float32, device=device, mask=reduced
    )
    rows = masked_keep.any(-1).squeeze(1)[:, :, None].expand(case.batch, case.q_len, case.heads)
    what = f"{name}({case.describe()}) with key {j} masked vs deleted"
    assert_close(out_masked[rows], out_deleted[rows], kind="attention", what="output", call=what)


@requires("eager_attention_forward")
@given(case=attention_cases(), dtype=dtypes(allow_half=True, allow_float64=True))
def test_eager_weights_are_distributions_zero_where_masked(impl, case, dtype):
    """eager's attention weights: each row of an attending query sums to one, and a masked key gets weight
    exactly zero."""
    device = runtime.device()
    q, k, v = case.qkv(dtype, device)
    _, weights = call(impl, "eager_attention_forward", case, q, k, v, dtype=dtype, device=device)
    what = f"eager_attention_forward({case.describe()}, {dtype}) weights"
    rows = case.attended_rows(device).expand(case.batch, case.heads, case.q_len)
    sums = weights.double().sum(-1)[rows]
    assert_close(sums, torch.ones_like(sums), kind="attention", dtype=dtype, what="row sums", call=what)
    keep = case.keep(device)
    if keep is not None:
        masked = (~keep).expand(case.batch, case.heads, case.q_len, case.kv_len) & rows[..., None]
        assert_equal(weights[masked], torch.zeros_like(weights[masked]), what="weights of masked keys", call=what)


@requires("sdpa_attention_forward")
@given(case=attention_cases(styles=("none",)), switch=st.sampled_from(["default", "module", "argument"]))
def test_sdpa_without_mask_is_causal_unless_turned_off(impl, case, switch):
    """With no mask, sdpa is causal (aligned to the upper left) when there is more than one query; a single
    query attends every key; ``module.is_causal = False`` or ``is_causal=False`` turns causality off."""
    device = runtime.device()
    q, k, v = case.qkv(torch.float32, device)
    module = attention_module(case.groups, is_causal=False if switch == "module" else None)
    kwargs = {"is_causal": False} if switch == "argument" else {}
    out, _ = impl.sdpa_attention_forward(module, q, k, v, None, scaling=case.scaling, **kwargs)
    causal = switch == "default" and case.q_len > 1
    expected_case = dataclasses.replace(case, mask_style="causal" if causal else "none")
    what = f"sdpa_attention_forward({case.describe()}, mask None, is_causal via {switch})"
    assert_matches_definition(
        out, expected_case, q, k, v, dtype=torch.float32, what="causal" if causal else "full attention", call=what
    )


@pytest.mark.parametrize("name", FUNCTIONS)
@given(case=attention_cases(), dtype=dtypes(allow_float64=True))
def test_matches_reference(impl, name, case, dtype):
    """Differential: the output equals the reference's on the same call."""
    device = runtime.device()
    q, k, v = case.qkv(dtype, device)
    out, _ = call(impl, name, case, q, k, v, dtype=dtype, device=device)
    ref, _ = call(reference, name, case, q, k, v, dtype=dtype, device=device)
    note(f"case: {case.describe()}")
    assert_close(
        attended(out, case, device),
        attended(ref, case, device),
        kind="attention",
        what="output vs reference",
        call=f"{name}({case.describe()}, {dtype})",
    )


@requires("sdpa_attention_forward")
@given(case=attention_cases(styles=("none", "boolean")).filter(lambda c: c.groups == 1))
def test_sdpa_module_without_groups_attribute_repeats_nothing(impl, case):
    """A module without ``num_key_value_groups`` (an encoder's, say) gets plain attention from sdpa: each
    query head reads the key/value head of the same index."""
    device = runtime.device()
    q, k, v = case.qkv(torch.float32, device)
    module = torch.nn.Module()
    module.is_causal = False
    mask = case.keep(device)
    out, _ = impl.sdpa_attention_forward(module, q, k, v, mask, scaling=case.scaling)
    call = f"sdpa_attention_forward(module without num_key_value_groups, {case.describe()})"
    assert_matches_definition(out, case, q, k, v, dtype=torch.float32, what="output", call=call)


@pytest.mark.parametrize("name", FUNCTIONS)
@given(case=attention_cases(styles=("none", "additive")))
def test_dropout_defaults_to_zero(impl, name, case):
    """Without a ``dropout`` argument, a module in training mode gets no dropout: the output equals the
    call with ``dropout=0.0``."""
    device = runtime.device()
    q, k, v = case.qkv(torch.float32, device)
    module = attention_module(case.groups, is_causal=False if name.startswith("sdpa") else None, training=True)
    fn = getattr(impl, name)
    mask = case.bias(torch.float32, device)
    out_default, _ = fn(module, q, k, v, mask, scaling=case.scaling)
    out_zero, _ = fn(module, q, k, v, mask, scaling=case.scaling, dropout=0.0)
    call = f"{name}(training module, {case.describe()}) without dropout"
    assert_equal(attended(out_default, case, device), attended(out_zero, case, device), what="output", call=call)


@requires("sdpa_attention_forward")
@given(
    case=attention_cases(),
    dtype=dtypes(allow_float64=True),
    bias_batch=st.booleans(),
    bias_heads=st.booleans(),
    seed=seeds(),
)
def test_sdpa_position_bias_is_added_to_the_scores(impl, case, dtype, bias_batch, bias_heads, seed):
    """``position_bias`` (a learned relative-position bias of shape ``[batch or 1, heads or 1, q_len,
    kv_len]``) is added to the attention scores: sdpa's output equals ``softmax(q k^T * scaling + mask +
    position_bias) v`` in float64, for no mask, causal (the bias on the causal keys), additive and boolean
    masks and grouped queries; masked keys stay masked."""
    fn = impl.sdpa_attention_forward
    if "position_bias" not in inspect.signature(fn).parameters:
        pytest.skip(f"missing: sdpa_attention_forward(position_bias) in {impl.name}")
    device = runtime.device()
    q, k, v = case.qkv(dtype, device)
    shape = (case.batch if bias_batch else 1, case.heads if bias_heads else 1, case.q_len, case.kv_len)
    position_bias = make_tensor(shape, seed, dtype, device)
    module = attention_module(case.groups, is_causal=case.mask_style == "causal")
    mask = mask_for("sdpa_attention_forward", case, dtype, device)
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
