"""The surface of an implementation, and which of it the properties exercise.

The contract (:mod:`layer_conformance.contract`) lists the public *names*; the
*surface* is everything of each name a caller can reach:

* every named parameter of a function, and of a class's constructor:
  ``sdpa_mask(use_vmap)``, ``Conv1D(nf)`` (``*args`` and ``**kwargs`` are
  catch-alls, not surface);
* every key of a registry -- ``ROPE_INIT_FUNCTIONS``, a fresh
  ``AttentionInterface()`` and ``AttentionMaskInterface()``:
  ``ROPE_INIT_FUNCTIONS['proportional']``, ``AttentionInterface['sdpa']``;
* every named parameter of a ``ROPE_INIT_FUNCTIONS`` entry:
  ``ROPE_INIT_FUNCTIONS['proportional'](head_dim_key)``;
* every public method a registry class defines beyond the mutable-mapping protocol:
  ``AttentionInterface.get_interface``, ``AttentionMaskInterface.register``;
* every public function the implementation declares beside the contract names (its
  ``PUBLIC_FUNCTIONS`` hook; transformers: those of ``masking_utils`` and ``modeling_rope_utils``):
  ``masking_utils.blockwise_overlay``.

:data:`COVERED` declares, in this one place, which properties exercise which
surface (a property exercises a parameter when it passes it, a registry key when
it looks that entry up); ``[*]`` stands for every key the properties look up.  An item
is *covered* when it matches a declaration, when a property reported running it
in this run (:func:`layer_conformance.channel.exercised`: an entry chosen
at run time, such as an attention backend a run selects), or when the
implementation's ``SURFACE_ALIASES`` hook maps it to a covered item (a
parameter its adapter translates: 4.57's ``cache_position`` is exercised through
the canonical ``q_length`` and ``q_offset``).  :data:`EXEMPT` names the surface
no property can exercise here, with the reason; it is reported apart.
Everything else is *uncovered surface*, listed per implementation in the
terminal summary and ``report.json``: for the reference and the transformers
releases the suite was written against it is empty; for a new release it says
what to add.

Declaring an item covered is a claim about the properties: ``tests/test_surface.py``
runs them on a spy implementation that records every parameter passed and every
registry key looked up, and checks each declaration against what was recorded.

This module imports nothing but the standard library and the contract (the
pytest-xdist controller reads it without torch).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .contract import API, REGISTRIES

__all__ = [
    "COVERED",
    "EXEMPT",
    "Coverage",
    "Item",
    "coverage",
    "covering",
    "parse",
    "registry_methods",
    "surface_of",
]

#: Registries whose entries' parameters are surface too: the mappings of functions (``ROPE_INIT_FUNCTIONS``);
#: the entries of the registry classes are attention backends and mask builders with their own signatures.
#: Both follow from the contract's ``kind`` (:data:`layer_conformance.contract.KINDS`).
ENTRY_PARAMETERS = tuple(name for name in REGISTRIES if API[name].kind == "mapping")

_ITEM = re.compile(r"^(?P<name>\w+(?:\.\w+)?)(?:\[(?P<key>\*|'(?:[^'\\]|\\.)*')\])?(?:\((?P<param>\w+|\?)\))?$")


@dataclass(frozen=True, order=True)
class Item:
    """One piece of surface: a contract name, optionally a registry key (``"*"`` in a declaration: any key
    the properties run), optionally a parameter (``"?"``: the signature could not be read)."""

    name: str
    key: str | None = None
    param: str | None = None

    def __str__(self) -> str:
        text = self.name
        if self.key is not None:
            escaped = self.key.replace("\\", "\\\\").replace("'", "\\'")
            text += "[*]" if self.key == "*" else f"['{escaped}']"
        if self.param is not None:
            text += f"({self.param})"
        return text

    @property
    def entry(self) -> Item | None:
        """The registry entry a parameter of an entry belongs to."""
        return Item(self.name, self.key) if self.key is not None and self.param is not None else None

    def matches(self, item: Item) -> bool:
        """Whether this declaration covers ``item`` (``[*]`` matches any key)."""
        return (
            self.name == item.name
            and self.param == item.param
            and (self.key == item.key or (self.key == "*" and item.key is not None))
        )


def parse(text: str) -> Item:
    """An item from its written form: ``name``, ``name(param)``, ``name['key']``, ``name['key'](param)``,
    ``name[*](param)``."""
    match = _ITEM.match(text)
    if match is None:
        raise ValueError(f"not a surface item: {text!r}")
    key = match["key"]
    if key is not None and key != "*":
        key = key[1:-1].replace("\\'", "'").replace("\\\\", "\\")
    return Item(match["name"], key, match["param"])


# --------------------------------------------------------------------------- what the properties exercise


def _props(module: str, *functions: str) -> tuple[str, ...]:
    return tuple(f"{module}::{f}" for f in functions)


def _params(name: str, params: str, *properties: str) -> dict[str, tuple[str, ...]]:
    return {f"{name}({p})": tuple(properties) for p in params.split()}


_CONV1D = _props(
    "test_conv1d.py", "test_parameters_shapes_and_state_dict", "test_forward_equals_linear_with_transposed_weight"
)
_CHUNKING = _props("test_chunking.py", "test_chunked_equals_unchunked", "test_matches_reference")
_HEADS = _props(
    "test_pruning.py", "test_heads_to_prune_are_requested_minus_already_pruned", "test_heads_match_reference"
)
_PRUNE = _props("test_pruning.py", "test_weight_and_bias_rules", "test_pruned_layer_matches_reference")
_ATTENTION = _props("test_attention.py", "test_matches_float64_definition", "test_matches_reference")
_MASK_FUNCTIONS = _props(
    "test_masks.py", "test_mask_function_truth_table", "test_point_evaluation_agrees_with_broadcast_evaluation"
)
_BUILDERS = _props("test_masks.py", "test_sdpa_mask_equals_truth_table", "test_mask_builders_match_reference")
_EAGER = _props(
    "test_masks.py", "test_eager_mask_is_the_mask_as_zero_and_dtype_min", "test_end_to_end_sdpa_path_equals_eager_path"
)
_INIT = _props("test_rope.py", "test_init_function_matches_float64_formula", "test_init_function_matches_reference")
_REGISTRY = _props("test_registries.py", "test_default_entries", "test_registry_state_machine")
_ENTRY = _props(
    "test_model_masks.py",
    "test_entry_point_calls_the_builder_the_config_selects",
    "test_entry_point_mask_reads_as_documented",
)

#: Surface item (its written form) -> the properties (``<file>::<function>``) that exercise it.
COVERED: dict[str, tuple[str, ...]] = {
    **_params("Conv1D", "nf nx", *_CONV1D),
    **_params("apply_chunking_to_forward", "forward_fn chunk_size chunk_dim", *_CHUNKING),
    **_params("find_pruneable_heads_and_indices", "heads n_heads head_size already_pruned_heads", *_HEADS),
    **_params("prune_linear_layer", "layer index dim", *_PRUNE),
    **_params("prune_conv1d_layer", "layer index dim", *_PRUNE),
    **_params("prune_layer", "layer index dim", *_PRUNE),
    "AttentionInterface['sdpa']": _REGISTRY,
    "AttentionMaskInterface['sdpa']": _REGISTRY,
    "AttentionMaskInterface['eager']": _props("test_registries.py", "test_default_entries"),
    **_params("eager_attention_forward", "module query key value attention_mask scaling dropout", *_ATTENTION),
    **_params("sdpa_attention_forward", "module query key value attention_mask scaling dropout", *_ATTENTION),
    "sdpa_attention_forward(is_causal)": _props(
        "test_attention.py", "test_sdpa_without_mask_is_causal_unless_turned_off"
    ),
    "sdpa_attention_forward(position_bias)": _props(
        "test_attention.py", "test_sdpa_position_bias_is_added_to_the_scores"
    ),
    **{
        f"{fn}({p})": _MASK_FUNCTIONS
        for fn in ("causal_mask_function", "bidirectional_mask_function")
        for p in ("batch_idx", "head_idx", "q_idx", "kv_idx")
    },
    **_params("sliding_window_overlay", "sliding_window", *_MASK_FUNCTIONS),
    **_params("sliding_window_causal_mask_function", "sliding_window", *_MASK_FUNCTIONS),
    **_params("chunked_overlay", "chunk_size left_padding", *_MASK_FUNCTIONS),
    **_params("chunked_causal_mask_function", "chunk_size left_padding", *_MASK_FUNCTIONS),
    **_params("padding_mask_function", "padding_mask", *_MASK_FUNCTIONS),
    **_params(
        "sdpa_mask",
        "batch_size q_length kv_length q_offset kv_offset mask_function attention_mask allow_is_causal_skip device",
        *_BUILDERS,
    ),
    "sdpa_mask(local_size)": _props(
        "test_masks.py",
        "test_sdpa_mask_returns_none_only_when_sdpa_is_causal_computes_the_mask",
        "test_mask_builders_match_reference",
    ),
    **_params(
        "eager_mask",
        "batch_size q_length kv_length q_offset kv_offset mask_function attention_mask dtype device",
        *_EAGER,
    ),
    **_params(
        "sdpa_mask",
        "allow_is_bidirectional_skip",
        "test_masks.py::test_bidirectional_skip_returns_none_exactly_when_every_key_is_attended",
    ),
    **_params(
        "eager_mask",
        "allow_is_bidirectional_skip",
        "test_masks.py::test_bidirectional_skip_returns_none_exactly_when_every_key_is_attended",
    ),
    "sdpa_mask(use_vmap)": _props("test_masks.py", "test_use_vmap_changes_nothing"),
    "eager_mask(use_vmap)": _props("test_masks.py", "test_use_vmap_changes_nothing"),
    "dynamic_rope_update(rope_forward)": _props(
        "test_rope.py",
        "test_dynamic_ntk_grows_and_resets",
        "test_dynamic_ntk_grows_and_resets_per_layer_type",
        "test_decorated_forward_keeps_its_name_and_doc",
    ),
    **{
        f"ROPE_INIT_FUNCTIONS[{t!r}]": _INIT
        for t in ("default", "linear", "dynamic", "yarn", "longrope", "llama3", "proportional")
    },
    **_params("ROPE_INIT_FUNCTIONS[*]", "config device seq_len", *_INIT),
    "ROPE_INIT_FUNCTIONS[*](layer_type)": _props("test_rope.py", "test_parameters_nested_by_layer_type_equal_flat"),
    **_params(
        "rotary_embedding",
        "config query key position_ids interleaved",
        "test_rope.py::test_rotation_matches_the_float64_definition",
    ),
    "ROPE_INIT_FUNCTIONS['proportional'](head_dim_key)": _props(
        "test_rope.py", "test_proportional_reads_the_head_dim_named_by_head_dim_key"
    ),
    "AttentionInterface.register": _props(
        "test_registries.py", "test_registry_state_machine", "test_get_interface_follows_the_registry"
    ),
    "AttentionInterface.valid_keys": _props("test_registries.py", "test_registry_state_machine"),
    "AttentionInterface.get_interface": _props("test_registries.py", "test_get_interface_follows_the_registry"),
    "AttentionMaskInterface.register": (
        *_props("test_registries.py", "test_registry_state_machine"),
        *_props("test_model_masks.py", "test_entry_point_calls_the_builder_the_config_selects"),
    ),
    "AttentionMaskInterface.valid_keys": _props("test_registries.py", "test_registry_state_machine"),
    **{
        f"{entry}({p})": _ENTRY
        for entry in ("create_causal_mask", "create_sliding_window_causal_mask", "create_chunked_causal_mask")
        for p in ("config", "inputs_embeds", "attention_mask", "position_ids", "or_mask_function", "and_mask_function")
    },
    **_params(
        "create_bidirectional_mask",
        "config inputs_embeds attention_mask encoder_hidden_states or_mask_function and_mask_function",
        *_ENTRY,
    ),
    **_params(
        "create_masks_for_generate",
        "config inputs_embeds attention_mask position_ids or_mask_function and_mask_function",
        "test_model_masks.py::test_masks_for_generate_follow_the_layer_types",
    ),
    "find_packed_sequence_indices(position_ids)": _props(
        "test_model_masks.py", "test_packed_sequences_are_numbered_from_the_position_ids"
    ),
    "packed_sequence_mask_function(packed_sequence_mask)": _props(
        "test_model_masks.py", "test_packed_sequence_mask_function_attends_within_a_sequence"
    ),
}

_BACKEND = (
    "an attention backend this run did not run: `--attention-backend KEY` (or `all`) selects it where it can run "
    "(flash-attn kernels need their package and a CUDA GPU; paged attention needs a paged cache, which the suite "
    "cannot drive); a selected backend the properties ran counts as exercised"
)

_ENTRY_POINTS = (
    "create_causal_mask",
    "create_sliding_window_causal_mask",
    "create_chunked_causal_mask",
    "create_bidirectional_mask",
    "create_masks_for_generate",
)
_NO_CACHE = (
    "the canonical mask entry points take no cache (queries and keys the same tokens): what a cache changes "
    "reaches the builders as q_offset, kv_offset and kv_length, which the builder properties judge"
)
_ENTRY_EXEMPT = {
    "cache": _NO_CACHE,
    "past_key_values": _NO_CACHE,
    "layer_idx": "the cache layer whose sizes the mask gets: " + _NO_CACHE,
    "block_sequence_ids": (
        "blockwise overlays (5.9 and later: tokens of one block attend each other bidirectionally) are not in the "
        "contract's canonical call form yet; blockwise_overlay, which builds them, is exempt alike"
    ),
    "allow_is_causal_skip": (
        "handed on to the builder as its allow_is_causal_skip, whose skip rule the builder properties judge; the "
        "entry point properties call with the default (True) and read a skipped mask as the backend reads None"
    ),
    "allow_is_bidirectional_skip": (
        "handed on to the builder as its allow_is_bidirectional_skip, whose skip rule the builder properties judge"
    ),
}
_BUILT_IN = "judged through the contract names built on it"
#: The public functions of ``masking_utils`` outside the contract (any release since 4.53), and why none is judged
#: on its own.
_MASKING_UTILS = {
    "add_offsets_to_mask_function": f"a building block of sdpa_mask / eager_mask (queries and keys at their offsets): {_BUILT_IN}",
    "prepare_padding_mask": f"a building block of the builders (the 2-D mask padded to the keys): {_BUILT_IN}",
    "fast_all": f"a building block of the builders' skip rules: {_BUILT_IN}",
    "remap_positions_for_packed_sequence": (
        "a building block of the mask entry points (packed sequences masked at their own positions): judged "
        "through them (test_model_masks.py)"
    ),
    "packed_sequence_compatibility_function": f"a building block of packed-sequence masking in one release: {_BUILT_IN}",
    "find_first_full_attention_index": "picks the cache layer an entry point sizes its mask on: " + _NO_CACHE,
    "maybe_pad_block_sequence_ids": _ENTRY_EXEMPT["block_sequence_ids"],
    "blockwise_overlay": _ENTRY_EXEMPT["block_sequence_ids"],
    "sdpa_mask_recent_torch": "4.53 to 4.57: what sdpa_mask is on torch >= 2.5, judged as sdpa_mask",
    "sdpa_mask_older_torch": "4.53 to 4.57: what sdpa_mask is on torch < 2.5 (this suite needs a newer torch)",
    "flash_attention_mask": "the mask builder of the flash backends (AttentionMaskInterface['flash_attention_*']): "
    + _BACKEND,
    "flex_attention_mask": "the mask builder of the flex backend (AttentionMaskInterface['flex_attention']): "
    + _BACKEND,
    "sliding_window_bidirectional_overlay": (
        "the bidirectional sliding window (5.x encoders): not in the contract yet, with "
        "create_bidirectional_sliding_window_mask, which builds its masks"
    ),
    "sliding_window_bidirectional_mask_function": "the bidirectional sliding window: not in the contract yet",
    "create_bidirectional_sliding_window_mask": "the bidirectional sliding window: not in the contract yet",
    "create_recurrent_attention_mask": (
        "the mask of linear-attention / recurrent layers (5.x hybrids): not a mask of the attention interfaces; "
        "not in the contract"
    ),
    "get_style": "a helper of the mask printer (tensor_to_mask_visual): no behaviour of a model",
    "tensor_to_mask_visual": "prints a mask as text for debugging: no behaviour of a model",
}

#: Surface no property exercises here, with the reason (reported apart from the uncovered surface).  Keys
#: are listed one by one, so that a key a new release adds shows up as uncovered.
EXEMPT: dict[str, str] = {
    **{
        f"AttentionInterface[{key!r}]": _BACKEND
        for key in (
            "flash_attention_2",
            "flash_attention_3",
            "flash_attention_4",
            "flex_attention",
            "paged|eager",
            "paged|sdpa",
            "paged|flash_attention_2",
            "paged|flash_attention_3",
            "paged|flash_attention_4",
            "paged_attention",
            "eager_paged",
            "sdpa_paged",
        )
    },
    **{
        f"AttentionMaskInterface[{key!r}]": _BACKEND
        for key in ("flash_attention_2", "flash_attention_3", "flash_attention_4", "flex_attention")
    },
    **{f"{entry}({p})": reason for entry in _ENTRY_POINTS for p, reason in _ENTRY_EXEMPT.items()},
    **{f"masking_utils.{name}": reason for name, reason in _MASKING_UTILS.items()},
    "modeling_rope_utils.rope_config_validation": (
        "validates a config's RoPE parameters (raising or warning on malformed ones): the suite's configs are "
        "valid by construction; the frequencies such a config gives are judged through ROPE_INIT_FUNCTIONS"
    ),
}


# --------------------------------------------------------------------------- listing an implementation's surface


def _parameters(fn: Any) -> list[str] | None:
    """The named parameters of a callable (``*args``/``**kwargs`` left out), or None when unreadable."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    kinds = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return [p.name for p in signature.parameters.values() if p.kind not in kinds]


def _callable_items(name: str, fn: Any, key: str | None = None) -> list[Item]:
    params = _parameters(fn)
    if params is None:
        return [Item(name, key, "?")]
    return [Item(name, key, p) for p in params]


def _registry_keys(value: Any) -> list[str] | None:
    if isinstance(value, Mapping):
        return [str(k) for k in value]
    try:
        return [str(k) for k in value()]  # a registry class: a fresh instance holds the global entries
    except Exception:
        return None


def registry_methods(cls: Any) -> list[str]:
    """The public methods a registry class (and its bases) defines beyond the mutable-mapping protocol."""
    if not isinstance(cls, type):
        return []
    found = set()
    for klass in cls.__mro__:
        if klass.__module__ in ("builtins", "collections.abc", "typing", "abc"):
            continue
        found |= {
            n
            for n, v in vars(klass).items()
            if not n.startswith("_") and (callable(v) or isinstance(v, (classmethod, staticmethod)))
        }
    return sorted(n for n in found if not n.startswith("_"))


def surface_of(obj: Any, names: Iterable[str]) -> list[str]:
    """The surface of implementation object ``obj`` for the contract ``names`` it has, sorted, as written
    items.  Reads signatures and registry keys only (nothing is called but a registry's constructor)."""
    items: list[Item] = []
    for name in names:
        value = getattr(obj, name, None)
        if value is None:
            continue
        if name in REGISTRIES:
            keys = _registry_keys(value)
            if keys is None:
                items.append(Item(name, None, "?"))
                continue
            for key in keys:
                items.append(Item(name, key))
                if name in ENTRY_PARAMETERS:
                    items += _callable_items(name, value[key], key)
            items += [Item(f"{name}.{method}") for method in registry_methods(value)]
        elif callable(value):
            items += _callable_items(name, value)
    public = getattr(obj, "PUBLIC_FUNCTIONS", None)
    if isinstance(public, Mapping):
        items += [Item(str(dotted)) for dotted in public if str(dotted).rpartition(".")[2] not in API]
    return sorted({str(i) for i in items})


# --------------------------------------------------------------------------- comparing


_DECLARED = [(parse(text), properties) for text, properties in COVERED.items()]
_EXEMPT = {parse(text): reason for text, reason in EXEMPT.items()}


def covering(item: str) -> tuple[str, ...]:
    """The properties declared to exercise ``item`` (empty when none is)."""
    parsed = parse(item)
    found: list[str] = []
    for declared, properties in _DECLARED:
        if declared.matches(parsed):
            found += [p for p in properties if p not in found]
    return tuple(found)


@dataclass
class Coverage:
    """How much of one implementation's surface the properties exercise."""

    items: list[str]
    #: how many of the items the properties exercise
    covered: int
    uncovered: list[str]
    exempt: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        return {"items": self.items, "covered": self.covered, "uncovered": self.uncovered, "exempt": self.exempt}


def coverage(
    items: Iterable[str],
    *,
    exercised: Iterable[str] = (),
    aliases: Mapping[str, str] | None = None,
    declared: Callable[[str], tuple[str, ...]] = covering,
) -> Coverage:
    """Compare a surface with the declarations, the items properties reported running (``exercised``) and
    the implementation's aliases (item -> the canonical item that exercises it).  A parameter of a registry
    entry that is itself uncovered is not listed again: the entry stands for it."""
    items = sorted(set(items))
    ran = set(exercised)
    aliases = dict(aliases or {})

    def covered(item: str, seen: frozenset[str] = frozenset()) -> bool:
        if item in ran or declared(item):
            if parse(item).entry is None or covered(str(parse(item).entry)):
                return True
        alias = aliases.get(item)
        return alias is not None and alias not in seen and covered(alias, seen | {item})

    uncovered, exempt, count = [], {}, 0
    for item in items:
        if covered(item):
            count += 1
            continue
        parsed = parse(item)
        reason = _EXEMPT.get(parsed) or (_EXEMPT.get(parsed.entry) if parsed.entry else None)
        if reason is not None:
            exempt[item] = reason
        elif parsed.entry is None or covered(str(parsed.entry)) or str(parsed.entry) not in items:
            uncovered.append(item)
    return Coverage(items=items, covered=count, uncovered=uncovered, exempt=exempt)
