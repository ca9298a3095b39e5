"""The mask entry points models call, and packed sequences.

A model's forward never calls a mask builder itself: it calls ``create_causal_mask`` (or the sliding
window, chunked or bidirectional sibling) with its config, input embeddings, 2-D padding mask and
position ids, and the entry point picks the builder registered under ``config._attn_implementation``.
These properties judge that path: which builder is used, what it is handed, and what the mask a
backend then reads says.  Calls are drawn as :class:`layer_conformance.strategies.model_masks.EntryCall`
(no cache: queries and keys are the same tokens) and compared with the documented mask computed point by
point; the config is :class:`layer_conformance.canonical.MaskConfig`.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, note
from hypothesis import strategies as st

from layer_conformance import runtime
from layer_conformance.canonical import MASK_LAYER_TYPES, MaskConfig
from layer_conformance.missing import missing
from layer_conformance.strategies import grid
from layer_conformance.strategies.core import explicit
from layer_conformance.strategies.model_masks import (
    ENTRIES,
    ENTRY_REGIMES,
    PACKING_REGIMES,
    EntryCall,
    diagonal,
    entry_calls,
    entry_regimes,
    packed_positions,
    pinned_entry_calls,
)
from layer_conformance.support.attention import builder_of, read_mask, running
from layer_conformance.support.checks import assert_equal, backend_property, requires

ENTRY_PARAMS = [pytest.param(entry, marks=requires(entry), id=entry) for entry in ENTRIES]

#: The key under which a property registers its own builder (restored after every example).
SPY_KEY = "lc-test-builder"
#: A key no mask builder is registered under (an attention kernel registered alone).
NO_BUILDER_KEY = "lc-test-kernel-without-builder"


def _label(kwargs) -> None:
    call = kwargs["call"]
    if isinstance(call, EntryCall):
        ENTRY_REGIMES.label(call, declared=entry_regimes(call.entry))


def _resolve(data, entry: str, call) -> EntryCall | None:
    """The drawn call, or the pinned one of that index (None where the entry point has fewer)."""
    if data is not None:
        return data.draw(entry_calls(entry), label="call")
    pinned = pinned_entry_calls(entry)
    if call >= len(pinned):
        return None
    return ENTRY_REGIMES.label(pinned[call], declared=entry_regimes(entry))


def invoke(impl, call: EntryCall, config: MaskConfig, device, dtype=torch.float32):
    """The entry point of ``call`` called as models call it, in the canonical form (no cache)."""
    fn = getattr(impl, call.entry)
    embeds = call.inputs_embeds(dtype, device)
    overlays = {"or_mask_function": call.overlay("or", device), "and_mask_function": call.overlay("and", device)}
    if call.entry == "create_bidirectional_mask":
        return fn(
            config,
            embeds,
            call.attention_mask(device),
            encoder_hidden_states=call.encoder_hidden_states(dtype, device),
            **overlays,
        )
    return fn(config, embeds, call.attention_mask(device), position_ids=call.position_ids(device), **overlays)


# --------------------------------------------------------------------------- packed sequences


@requires("find_packed_sequence_indices")
@given(data=st.data())
@explicit(
    {"data": ((3, 4, 5),)},  # one sequence from a later start
    {"data": ((0, 1, 0, 1, 2, 0), (0, 1, 2, 3, 4, 5))},  # 2, 3 and 1 tokens beside an unpacked row
    {"data": ((0, 1, 2, 5, 6, 6),)},  # a restart elsewhere than 0, a repeated position
    label=lambda kw: PACKING_REGIMES.label([list(r) for r in kw["data"]]) if isinstance(kw["data"], tuple) else None,
)
def test_packed_sequences_are_numbered_from_the_position_ids(impl, data):
    """``find_packed_sequence_indices(position_ids)`` numbers the sequences packed into each row: a new one
    starts wherever a position is not the previous one plus 1 (a restart at 0 or elsewhere, a repeated
    position), so the result holds, per token, how many sequences started before it in its row; it is
    None when no row holds more than one sequence."""
    if isinstance(data, tuple):
        rows = [list(r) for r in data]
    else:
        batch = data.draw(st.integers(1, 3), label="batch")
        length = data.draw(st.integers(1, 7), label="length")
        rows = [list(data.draw(packed_positions(length))) for _ in range(batch)]
        PACKING_REGIMES.label(rows)
    positions = torch.tensor(rows, device=runtime.device())
    expected = [[sum(r[j] != r[j - 1] + 1 for j in range(1, i + 1)) for i in range(len(r))] for r in rows]
    out = impl.find_packed_sequence_indices(positions)
    call = f"find_packed_sequence_indices({rows})"
    if not any(r[-1] for r in expected):
        assert out is None, f"{call} returned {out!r}, but every row holds one sequence: should be None"
        return
    assert out is not None, f"{call} returned None, but should number the packed sequences {expected}"
    assert_equal(out.cpu().long(), torch.tensor(expected), what="sequence indices", call=call)


@requires("packed_sequence_mask_function")
@given(data=st.data())
@explicit({"data": ((0, 0, 1, 1, 1, 2), (0, 0, 0, 0, 0, 0))})
def test_packed_sequence_mask_function_attends_within_a_sequence(impl, data):
    """``packed_sequence_mask_function(packed)`` is the mask function true exactly when query and key belong
    to the same sequence of their row (``packed[b, q] == packed[b, kv]``), on broadcast index tensors."""
    if isinstance(data, tuple):
        rows = [list(r) for r in data]
    else:
        batch = data.draw(st.integers(1, 3), label="batch")
        length = data.draw(st.integers(1, 7), label="length")
        rows = [sorted(data.draw(st.lists(st.integers(0, 3), min_size=length, max_size=length))) for _ in range(batch)]
    device = runtime.device()
    fn = impl.packed_sequence_mask_function(torch.tensor(rows, device=device))
    n = len(rows[0])
    out = torch.as_tensor(fn(*grid(len(rows), 1, n, n, device=device))).expand(len(rows), 1, n, n).cpu()
    expected = torch.tensor([[[[r[q] == r[kv] for kv in range(n)] for q in range(n)]] for r in rows])
    assert_equal(out.bool(), expected, what="mask values", call=f"packed_sequence_mask_function({rows})")


# --------------------------------------------------------------------------- the builder the config selects


def _spy(native):
    """A builder recording what it is handed and returning a sentinel, registered in the implementation's form."""
    seen: list[dict] = []
    sentinel = torch.full((1, 1, 1, 1), 7.0)

    def spy_builder(batch_size, q_length, kv_length, q_offset=0, kv_offset=0, mask_function=None, **kwargs):
        seen.append(dict(kwargs, batch_size=batch_size, q_length=q_length, kv_length=kv_length,
                         q_offset=int(q_offset), kv_offset=int(kv_offset), mask_function=mask_function))  # fmt: skip
        return sentinel

    return native(spy_builder), seen, sentinel


def _as_it_is(builder):
    return builder


@pytest.mark.parametrize("entry", ENTRY_PARAMS)
@requires("AttentionMaskInterface")
@given(data=st.data(), call=st.just(None))
@explicit(*({"data": None, "call": i} for i in range(6)), label=_label)
def test_entry_point_calls_the_builder_the_config_selects(impl, entry, data, call):
    """The entry point hands the mask to the builder registered under ``config._attn_implementation``: a
    builder registered under a new key is called once and its result is what the entry point returns; it
    gets the batch size and the query and key lengths (no cache: offsets 0), the 2-D padding mask as it
    is (True for real tokens), and a mask function equal, on every (batch, query, key), to the layer kind's
    documented one -- causal, within ``config.sliding_window`` keys, within chunks of
    ``config.attention_chunk_size`` counted from each row's first real token (or each packed sequence's
    start), or every key -- united with ``or_mask_function``, intersected with ``and_mask_function`` and,
    for packed sequences (restarting position ids, no padding mask), confined to each token's sequence.
    Under a key no mask builder is registered under the entry point returns None (no mask).  A
    4-D ``attention_mask`` is returned as it is."""
    call = _resolve(data, entry, call)
    if call is None:
        return
    device = runtime.device()
    native = impl.hook("native_mask_builder", _as_it_is)
    builder, seen, sentinel = _spy(native)
    impl.AttentionMaskInterface.register(SPY_KEY, builder)
    config = MaskConfig(SPY_KEY, **call.config_fields())
    text = call.call()
    out = invoke(impl, call, config, device)
    assert len(seen) == 1, f"the builder registered under {SPY_KEY!r} was called {len(seen)} times, not once [{text}]"
    assert out is sentinel, f"the entry point returned {out!r}, not what the selected builder returned [{text}]"
    got = seen[0]
    for name, value in (("batch_size", call.batch), ("q_length", call.q_length), ("kv_length", call.kv_length),
                        ("q_offset", 0), ("kv_offset", 0)):  # fmt: skip
        assert_equal(int(got[name]), value, what=f"the builder's {name}", call=text)
    padding = got.get("attention_mask")
    if call.padding is None:
        assert padding is None, f"the builder got a padding mask {padding!r} where the model passed none [{text}]"
    else:
        assert padding is not None, f"the builder got no padding mask [{text}]"
        assert_equal(
            padding.cpu().bool(), torch.tensor(call.padding), what="the padding mask the builder got", call=text
        )
    fn = got["mask_function"]
    table = torch.as_tensor(fn(*grid(call.batch, 1, call.q_length, call.kv_length, device=device)))
    table = table.expand(call.batch, 1, call.q_length, call.kv_length).cpu().bool()
    assert_equal(table, call.function_table(), what="the mask function the builder got", call=text)

    # a key with no mask builder (an attention kernel registered alone): no mask
    out = invoke(impl, call, MaskConfig(NO_BUILDER_KEY, **call.config_fields()), device)
    assert out is None, (
        f"under {NO_BUILDER_KEY!r}, a key without a mask builder, the entry point returned {out!r} [{text}]"
    )
    # a prepared 4-D mask passes through
    prepared = torch.zeros(call.batch, 1, call.q_length, call.kv_length, device=device)
    passed = EntryCall(call.entry, call.batch, call.q_length, window=call.window, chunk=call.chunk)
    fn = getattr(impl, call.entry)
    result = fn(config, passed.inputs_embeds(torch.float32, device), prepared)
    assert result is prepared, f"a 4-D attention_mask came back as {result!r}, not as it was passed [{text}]"
    assert len(seen) == 1, f"the builder was called for a 4-D attention_mask [{text}]"


# --------------------------------------------------------------------------- the mask as the backend reads it


@backend_property("builder")
@pytest.mark.parametrize("entry", ENTRY_PARAMS)
@given(data=st.data(), call=st.just(None))
@explicit(*({"data": None, "call": i} for i in range(6)), label=_label)
def test_entry_point_mask_reads_as_documented(impl, backend, entry, data, call):
    """For each selected backend, the entry point called with that backend's builder key in the config
    returns a mask that, read the way the backend reads it (additive 0 / finfo.min, boolean, None as sdpa's
    is_causal for the causal kinds or as every key for the bidirectional one, a flex BlockMask), attends
    exactly where the documented mask does: the layer kind's pattern (causal; within the window; within
    chunks counted from each row's first real token or each packed sequence's start; every key), united
    with ``or_mask_function``, intersected with ``and_mask_function``, confined to each packed sequence
    when the position ids restart and no padding mask is given (position ids beside a padding mask change
    nothing), and never on a padded key."""
    call = _resolve(data, entry, call)
    if call is None:
        return
    b = builder_of(impl, backend)
    if b.caps.mask == "padding2d":  # a flash-style kernel is causal itself and reads only the 2-D mask
        return
    device = runtime.device()
    config = MaskConfig(b.caps.builder, **call.config_fields())
    with running(b.caps):
        mask = invoke(impl, call, config, device)
    note(f"the entry point returned {type(mask).__name__}")
    text = f"{call.call()} with config._attn_implementation={b.caps.builder!r}"
    try:
        read = read_mask(b.caps, mask, call.batch, call.q_length, call.kv_length, is_causal=call.causal)
    except AssertionError as exc:
        raise AssertionError(f"{exc} [{text}]") from None
    assert_equal(read, call.expected(), what=f"mask as {b.caps.key} reads it", call=text)


# --------------------------------------------------------------------------- every layer kind at once


LAYER_TYPE_SETS = (
    ("full_attention",),
    ("sliding_attention", "full_attention", "sliding_attention"),
    ("chunked_attention", "full_attention"),
    ("sliding_attention", "chunked_attention", "full_attention"),
)


@requires("create_masks_for_generate", "create_causal_mask")
@given(
    layer_types=st.sampled_from([None, *LAYER_TYPE_SETS]),
    window=st.one_of(st.none(), st.integers(1, 4)),
    chunk=st.one_of(st.none(), st.integers(1, 4)),
    data=st.data(),
)
@explicit(
    {"layer_types": LAYER_TYPE_SETS[3], "window": 2, "chunk": 3, "data": None},
    {"layer_types": None, "window": 2, "chunk": 3, "data": None},
    {"layer_types": None, "window": None, "chunk": 3, "data": None},
    {"layer_types": None, "window": None, "chunk": None, "data": None},
)
def test_masks_for_generate_follow_the_layer_types(impl, layer_types, window, chunk, data):
    """``create_masks_for_generate`` builds what a model's forward builds: with ``config.layer_types``, a
    dict from each layer type present to its entry point's mask (``full_attention``: create_causal_mask,
    ``sliding_attention``: create_sliding_window_causal_mask, ``chunked_attention``:
    create_chunked_causal_mask); otherwise the sliding-window mask when the config has a window, else the
    chunked one when it has a chunk size, else the causal one -- each equal to that entry point's result
    for the same arguments."""
    device = runtime.device()
    if data is None:
        left = ((False, True, True, True, True), (True,) * 5)
        call = EntryCall("create_causal_mask", 2, 5, padding=left, or_table=diagonal(2, 5), and_table=diagonal(2, 5))
    else:
        call = data.draw(entry_calls("create_causal_mask", labelled=False), label="call")
    needed = (
        set(layer_types or ())
        | ({"sliding_attention"} if window else set())
        | ({"chunked_attention"} if chunk else set())
    )
    if layer_types and "sliding_attention" in layer_types and window is None:
        window = 3
    if layer_types and "chunked_attention" in layer_types and chunk is None:
        chunk = 2
    for layer_type in needed:
        if not impl.has(MASK_LAYER_TYPES[layer_type]):
            missing(MASK_LAYER_TYPES[layer_type], impl)
    config = MaskConfig("eager", sliding_window=window, attention_chunk_size=chunk, layer_types=layer_types)
    args = (call.inputs_embeds(torch.float32, device), call.attention_mask(device))
    overlays = {
        "position_ids": call.position_ids(device),
        "or_mask_function": call.overlay("or", device),
        "and_mask_function": call.overlay("and", device),
    }
    out = impl.create_masks_for_generate(config, *args, **overlays)
    text = f"create_masks_for_generate({config!r}, {call.call()})"

    def alone(name):
        return getattr(impl, name)(config, *args, **overlays)

    if layer_types is not None:
        assert isinstance(out, dict), f"{text} returned {type(out).__name__}, not a dict by layer type"
        assert sorted(out) == sorted(set(layer_types)), (
            f"{text}: keys {sorted(out)}, but should be {sorted(set(layer_types))}"
        )
        for layer_type, mask in out.items():
            assert_equal(mask, alone(MASK_LAYER_TYPES[layer_type]), what=f"the {layer_type} mask", call=text)
        return
    name = (
        "create_sliding_window_causal_mask" if window is not None
        else "create_chunked_causal_mask" if chunk is not None
        else "create_causal_mask"
    )  # fmt: skip
    expected = alone(name)
    if expected is None:
        assert out is None, f"{text} returned {out!r}, but {name} returns None"
    else:
        assert_equal(out, expected, what=f"the mask (that of {name})", call=text)
