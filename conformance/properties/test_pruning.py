"""Head pruning: find_pruneable_heads_and_indices, prune_linear_layer, prune_conv1d_layer, prune_layer."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch
from hypothesis import example, given, note
from hypothesis import strategies as st

from layer_conformance import reference, runtime
from layer_conformance.strategies import (
    FLOAT_DTYPES,
    head_sets,
    index_kinds,
    leading_dims,
    make_tensor,
    prune_indices,
    seeds,
    sizes,
)
from layer_conformance.strategies.core import examples, explicit, label_lead
from layer_conformance.strategies.pruning import HEAD_REGIMES, PINNED_HEAD_SETS, HeadSet, head_regimes, pinned_index
from layer_conformance.support.checks import assert_close, assert_equal, assert_raises, describe, requires

# --------------------------------------------------------------------------- heads


def pinned_heads(**fixed):
    """Explicit examples: every request of :data:`PINNED_HEAD_SETS` (labelled by the property: they bypass
    the strategy)."""
    return examples(*({"hs": hs, **fixed} for hs in PINNED_HEAD_SETS))


@requires("find_pruneable_heads_and_indices")
@given(hs=head_sets())
@pinned_heads()
def test_heads_to_prune_are_requested_minus_already_pruned(impl, hs):
    """The returned heads are the requested heads (as a set) minus the already pruned ones."""
    HEAD_REGIMES.label(hs)  # the pinned requests bypass the strategy
    heads, _ = impl.find_pruneable_heads_and_indices(*hs.call_args())
    call = f"find_pruneable_heads_and_indices{hs.call_args()}"
    assert_equal(set(heads), set(hs.heads) - hs.already_pruned, what="heads to prune", call=call)


@requires("find_pruneable_heads_and_indices")
@given(hs=head_sets())
@pinned_heads()
def test_index_keeps_whole_heads_of_the_current_layout(impl, hs):
    """The index is a LongTensor listing, in increasing order, the rows of the current layout (``n_heads``
    heads of ``head_size`` rows, already pruned heads removed) of every head that stays."""
    HEAD_REGIMES.label(hs)  # the pinned requests bypass the strategy
    _, index = impl.find_pruneable_heads_and_indices(*hs.call_args())
    call = f"find_pruneable_heads_and_indices{hs.call_args()}"
    assert isinstance(index, torch.Tensor), f"index is {type(index).__name__}, but should be a LongTensor [{call}]"
    assert_equal(index.dtype, torch.long, what="index dtype", call=call)
    remaining = [h for h in range(hs.total_heads) if h not in hs.already_pruned]  # current layout, in order
    to_prune = set(hs.heads) - hs.already_pruned
    expected = [
        pos * hs.head_size + r
        for pos, head in enumerate(remaining)
        if head not in to_prune
        for r in range(hs.head_size)
    ]
    assert_equal(index.cpu().tolist(), expected, what="kept rows", call=call)


@requires("find_pruneable_heads_and_indices")
@given(hs=head_sets(pruned_before=False), data=st.data())
# second rounds naming heads after a pruned one (their rows moved), or past the current head count
@example(hs=HeadSet(4, 2, frozenset(), (0, 2)), data=(1, 3))
@example(hs=HeadSet(3, 1, frozenset(), (1,)), data=(2,))
# every head requested, one twice, then one again; one head in all, nothing then it
@example(hs=HeadSet(3, 2, frozenset(), (0, 1, 2, 2)), data=(1,))
@example(hs=HeadSet(1, 2, frozenset(), ()), data=(0,))
def test_two_rounds_equal_one_round_with_the_union(impl, hs, data):
    """Pruning heads A, then heads B (with A as already pruned), keeps the same rows of the original layout
    and prunes the same heads as pruning A | B at once."""
    HEAD_REGIMES.label(hs, declared=head_regimes(pruned_before=False))  # the pinned requests bypass the strategy
    total, size = hs.total_heads, hs.head_size
    first = set(hs.heads)
    if isinstance(data, tuple):  # the explicit examples give the second round
        second = set(data)
    else:
        second = set(data.draw(st.lists(st.integers(0, total - 1), max_size=total), label="second_round"))
    pruned1, index1 = impl.find_pruneable_heads_and_indices(list(first), total, size, set())
    pruned2, index2 = impl.find_pruneable_heads_and_indices(list(second), total - len(pruned1), size, set(pruned1))
    union_heads, union_index = impl.find_pruneable_heads_and_indices(list(first | second), total, size, set())
    call = f"rounds {sorted(first)} then {sorted(second)} of {total} heads of size {size}"
    assert_equal(set(pruned1) | set(pruned2), set(union_heads), what="heads pruned over two rounds", call=call)
    assert_equal(index1[index2].tolist(), union_index.tolist(), what="rows kept over two rounds", call=call)


@requires("find_pruneable_heads_and_indices")
@given(hs=head_sets())
@pinned_heads()
def test_heads_match_reference(impl, hs):
    """Differential: same heads and same index as the reference."""
    HEAD_REGIMES.label(hs)  # the pinned requests bypass the strategy
    heads, index = impl.find_pruneable_heads_and_indices(*hs.call_args())
    ref_heads, ref_index = reference.find_pruneable_heads_and_indices(*hs.call_args())
    call = f"find_pruneable_heads_and_indices{hs.call_args()}"
    assert_equal(set(heads), ref_heads, what="heads vs reference", call=call)
    assert_equal(index.tolist(), ref_index.tolist(), what="index vs reference", call=call)


# --------------------------------------------------------------------------- layers


@dataclass(frozen=True)
class Route:
    """A layer kind and the function that prunes it."""

    layer: str  # "linear" or "conv1d"
    via: str  # the contract name called

    def out_dim(self) -> int:
        return 0 if self.layer == "linear" else 1

    def in_dim(self) -> int:
        return 1 - self.out_dim()

    def build(self, impl, n_in: int, n_out: int, seed: int, bias: bool = True, dtype=torch.float32):
        if self.layer == "linear":
            layer = torch.nn.Linear(n_in, n_out, bias=bias)
        else:
            layer = impl.Conv1D(n_out, n_in)
        with torch.no_grad():
            layer.weight.copy_(make_tensor(tuple(layer.weight.shape), seed))
            if layer.bias is not None:
                layer.bias.copy_(make_tensor(tuple(layer.bias.shape), seed + 1))
        return layer.to(device=runtime.device(), dtype=dtype)

    def prune(self, impl, layer, index, dim: int | None):
        fn = getattr(impl, self.via)
        return fn(layer, index) if dim is None else fn(layer, index, dim=dim)

    def call(self, index, dim) -> str:
        dim_part = "" if dim is None else f", dim={dim}"
        return f"{self.via}({self.layer} layer, {describe(index)}{dim_part})"


ROUTES = [
    pytest.param(
        Route("linear", "prune_linear_layer"), marks=requires("prune_linear_layer"), id="linear-prune_linear_layer"
    ),
    pytest.param(Route("linear", "prune_layer"), marks=requires("prune_layer"), id="linear-prune_layer"),
    pytest.param(
        Route("conv1d", "prune_conv1d_layer"),
        marks=requires("Conv1D", "prune_conv1d_layer"),
        id="conv1d-prune_conv1d_layer",
    ),
    pytest.param(Route("conv1d", "prune_layer"), marks=requires("Conv1D", "prune_layer"), id="conv1d-prune_layer"),
]

features = sizes(1, 6)
#: sorted-unique first (the documented use), so failures shrink to it
kinds = st.sampled_from(index_kinds)


def pinned_indices(**fixed):
    """Explicit examples ``data="one"`` and ``data="every"`` (with the ``fixed`` arguments): the index
    properties prune to one index and keep every index in every run (:func:`draw_index`).  A property
    drawing leading dims (``lead`` fixed) runs two more, with no leading dim and with several, labelled."""
    values = [{"data": "one", **fixed}, {"data": "every", **fixed}]
    if "lead" in fixed:
        values += [{**fixed, "data": "every", "lead": ()}, {**fixed, "data": "one", "lead": (2, 3)}]
        return explicit(*values, label=lambda kwargs: label_lead(kwargs["lead"]))
    return examples(*values)


def draw_index(data, size, kind="sorted-unique"):
    """A drawn pruning index (:func:`prune_indices`), or, for the explicit examples (``data`` "one" or
    "every"), the first index or every index, in order (labelled alike: they bypass the strategy)."""
    if isinstance(data, str):
        return pinned_index(size, 1 if data == "one" else None, kind)
    return data.draw(prune_indices(size, kind), label="index")


@pytest.mark.parametrize("route", ROUTES)
@given(
    lead=leading_dims(max_rank=2),
    n_in=features,
    n_out=features,
    kind=kinds,
    default_dim=st.booleans(),
    seed=seeds(),
    data=st.data(),
)
@pinned_indices(lead=(2,), n_in=3, n_out=3, kind="sorted-unique", default_dim=True, seed=0)  # one index, every index
def test_pruned_outputs_equal_the_original_restricted_to_index(
    impl, route, kind, lead, n_in, n_out, default_dim, seed, data
):
    """Pruning along the output dim (the default: 0 for Linear, 1 for Conv1D) gives a layer whose output is
    the original output restricted to ``index`` (bias included); unsorted and repeated indices too."""
    layer = route.build(impl, n_in, n_out, seed)
    index = draw_index(data, n_out, kind)
    dim = None if default_dim else route.out_dim()
    pruned = route.prune(impl, layer, index, dim)
    x = make_tensor((*lead, n_in), seed + 2, device=runtime.device())
    call = route.call(index, dim)
    with torch.no_grad():
        out = pruned(x)
        expected = layer(x)[..., index.to(x.device)]
    assert_equal(tuple(out.shape), tuple(expected.shape), what="pruned output shape", call=call)
    assert_close(out, expected, kind="matmul", what="pruned output", call=call)


@pytest.mark.parametrize("route", ROUTES)
@given(lead=leading_dims(max_rank=2), n_in=features, n_out=features, kind=kinds, seed=seeds(), data=st.data())
@pinned_indices(lead=(2,), n_in=3, n_out=2, kind="sorted-unique", seed=0)  # one index, every index
def test_pruned_inputs_equal_the_original_on_zeroed_features(impl, route, kind, lead, n_in, n_out, seed, data):
    """Pruning along the input dim (1 for Linear, 0 for Conv1D) gives a layer that, fed the kept features,
    outputs what the original outputs when the dropped features are zero (a repeated index adds up);
    the bias is kept whole."""
    layer = route.build(impl, n_in, n_out, seed)
    index = draw_index(data, n_in, kind)
    dim = route.in_dim()
    pruned = route.prune(impl, layer, index, dim)
    kept = make_tensor((*lead, len(index)), seed + 2, device=runtime.device())
    full = torch.zeros(*lead, n_in, device=kept.device).index_add(-1, index.to(kept.device), kept)
    call = route.call(index, dim)
    with torch.no_grad():
        assert_close(pruned(kept), layer(full), kind="matmul", what="output of the input-pruned layer", call=call)


@pytest.mark.parametrize("route", ROUTES)
@given(n_in=features, n_out=features, bias=st.booleans(), along_out=st.booleans(), seed=seeds(), data=st.data())
@pinned_indices(n_in=3, n_out=3, bias=True, along_out=True, seed=0)  # one index, every index
def test_weight_and_bias_rules(impl, route, n_in, n_out, bias, along_out, seed, data):
    """The new weight is the old one index-selected along ``dim``; the bias is index-selected only along the
    output dim and copied whole along the input dim; a Linear without bias stays without bias."""
    if route.layer == "conv1d":
        bias = True  # Conv1D always has a bias
    layer = route.build(impl, n_in, n_out, seed, bias=bias)
    dim = route.out_dim() if along_out else route.in_dim()
    index = draw_index(data, layer.weight.shape[dim])
    pruned = route.prune(impl, layer, index, dim)
    call = route.call(index, dim)
    idx = index.to(layer.weight.device)
    assert_equal(pruned.weight.detach(), layer.weight.detach().index_select(dim, idx), what="pruned weight", call=call)
    if not bias:
        assert pruned.bias is None, f"pruned layer has a bias, but the original had none [{call}]"
        return
    expected_bias = layer.bias.detach()[idx] if along_out else layer.bias.detach()
    assert_equal(pruned.bias.detach(), expected_bias, what="pruned bias", call=call)


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: str(d)[6:])
@given(n_in=features, n_out=features, frozen=st.booleans(), along_out=st.booleans(), seed=seeds(), data=st.data())
@pinned_indices(n_in=3, n_out=3, frozen=False, along_out=True, seed=0)  # one index, every index
def test_pruned_parameters_keep_dtype_and_device_and_require_grad(
    impl, route, dtype, n_in, n_out, frozen, along_out, seed, data
):
    """The pruned layer is a new layer whose parameters have the dtype and device of the original ones and
    require grad, even when the original's were frozen."""
    layer = route.build(impl, n_in, n_out, seed, dtype=dtype)
    layer.requires_grad_(not frozen)
    dim = route.out_dim() if along_out else route.in_dim()
    index = draw_index(data, layer.weight.shape[dim])
    pruned = route.prune(impl, layer, index, dim)
    call = route.call(index, dim) + f" on a {describe(dtype)} layer"
    assert pruned is not layer, f"returned the original layer [{call}]"
    for name in ("weight", "bias"):
        p = getattr(pruned, name)
        assert isinstance(p, torch.nn.Parameter), f"pruned.{name} is not a Parameter [{call}]"
        assert_equal(p.dtype, dtype, what=f"pruned.{name}.dtype", call=call)
        assert_equal(p.device, layer.weight.device, what=f"pruned.{name}.device", call=call)
        assert_equal(p.requires_grad, True, what=f"pruned.{name}.requires_grad", call=call)


@pytest.mark.parametrize("route", ROUTES)
@given(n_in=features, n_out=features, along_out=st.booleans(), seed=seeds(), data=st.data())
@pinned_indices(n_in=3, n_out=3, along_out=True, seed=0)  # one index, every index
def test_pruned_layer_shares_no_storage_and_original_is_untouched(impl, route, n_in, n_out, along_out, seed, data):
    """The new parameters share no storage with the original ones; the original layer keeps its
    parameters, their requires_grad flags and its output."""
    layer = route.build(impl, n_in, n_out, seed)
    before = {k: v.detach().clone() for k, v in layer.state_dict().items()}
    x = make_tensor((3, n_in), seed + 2, device=runtime.device())
    with torch.no_grad():
        out_before = layer(x)
    dim = route.out_dim() if along_out else route.in_dim()
    index = draw_index(data, layer.weight.shape[dim])
    pruned = route.prune(impl, layer, index, dim)
    call = route.call(index, dim)
    old_ptrs = {p.untyped_storage().data_ptr() for p in layer.parameters()}
    for name, p in pruned.named_parameters():
        assert p.untyped_storage().data_ptr() not in old_ptrs, (
            f"pruned.{name} shares storage with the original [{call}]"
        )
    with torch.no_grad():
        pruned.weight.add_(1.0)  # writing to the new layer must not reach the old one
    for k, v in layer.state_dict().items():
        assert_equal(v, before[k], what=f"original {k} after pruning", call=call)
    for name, p in layer.named_parameters():
        assert_equal(p.requires_grad, True, what=f"original {name}.requires_grad", call=call)
    with torch.no_grad():
        assert_equal(layer(x), out_before, what="original output after pruning", call=call)


class _NotPrunable(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(3, 3))
        self.bias = torch.nn.Parameter(torch.zeros(3))


@requires("prune_layer")
@given(
    make=st.sampled_from(
        [
            lambda: torch.nn.Conv1d(3, 3, 1),
            lambda: torch.nn.Embedding(3, 3),
            lambda: torch.nn.Bilinear(3, 3, 3),
            _NotPrunable,
        ]
    )
)
def test_prune_layer_rejects_other_layer_types(impl, make):
    """prune_layer raises ValueError for anything but nn.Linear and Conv1D (even with weight and bias)."""
    layer = make()
    assert_raises(
        ValueError, impl.prune_layer, layer, torch.tensor([0, 1]), what=f"prune_layer({type(layer).__name__})"
    )


@pytest.mark.parametrize("route", ROUTES)
@given(n_in=features, n_out=features, along_out=st.booleans(), seed=seeds(), data=st.data())
@pinned_indices(n_in=3, n_out=3, along_out=True, seed=0)  # one index, every index
def test_negative_dim_means_the_same_as_the_positive_one(impl, route, n_in, n_out, along_out, seed, data):
    """A negative ``dim`` counts from the end, as everywhere in torch: pruning along ``dim - 2`` gives the
    weight and bias of pruning along ``dim``."""
    layer = route.build(impl, n_in, n_out, seed)
    dim = route.out_dim() if along_out else route.in_dim()
    index = draw_index(data, layer.weight.shape[dim])
    positive = route.prune(impl, layer, index, dim)
    call = route.call(index, dim - 2)
    negative = route.prune(impl, layer, index, dim - 2)
    assert_equal(negative.weight.detach(), positive.weight.detach(), what=f"weight with dim={dim - 2}", call=call)
    assert_equal(negative.bias.detach(), positive.bias.detach(), what=f"bias with dim={dim - 2}", call=call)


@pytest.mark.parametrize("route", ROUTES)
@given(n_in=features, n_out=features, along_out=st.booleans(), seed=seeds(), data=st.data())
@pinned_indices(n_in=3, n_out=3, along_out=True, seed=0)  # one index, every index
def test_pruned_layer_matches_reference(impl, route, n_in, n_out, along_out, seed, data):
    """Differential: the pruned weight and bias equal the reference's for the same layer and index."""
    layer = route.build(impl, n_in, n_out, seed)
    dim = route.out_dim() if along_out else route.in_dim()
    kind = "sorted-unique" if isinstance(data, str) else data.draw(kinds, label="kind")
    index = draw_index(data, layer.weight.shape[dim], kind)
    pruned = route.prune(impl, layer, index, dim)
    ref_layer = route.build(reference, n_in, n_out, seed)
    ref = getattr(reference, route.via)(ref_layer, index, dim=dim)
    note(f"index={index.tolist()}")
    call = route.call(index, dim)
    assert_equal(pruned.weight.detach(), ref.weight.detach(), what="weight vs reference", call=call)
    assert_equal(pruned.bias.detach(), ref.bias.detach(), what="bias vs reference", call=call)
