"""The plug-in contract: every public name an implementation may expose.

An *implementation* is any importable object (usually a module) exposing some of
the names below as attributes.  Each name has one record (:class:`Api`) saying
what the documentation promises, which group of properties covers it, the call
form the properties use (the *canonical* form), and the module where transformers
keeps it (by major version; the adapter looks each name up there and reports it
missing where a release does not have it).  The records drive the missing-name logic, the
transformers adapter and the reports, so nothing here is repeated per test.

Canonical call forms follow the latest transformers releases where releases
differ; the transformers adapter translates for the others, choosing each
translation from the installed function's signature (see
``layer_conformance.adapters.transformers``).

Adding a contract name
----------------------

Five places, in this order; everything else follows from the record
(``tests/test_new_name.py`` adds a fake name by these steps alone and checks
that the suite, the report, the missing-name logic and the surface check pick
it up):

1. **Here**: an :class:`Api` record in :data:`API` -- the name, its group (the
   property module that judges it is ``properties/test_<group>.py``), the
   documented behaviour (``doc``), where transformers keeps it per major
   version (``where``; ``None`` where a release lacks it) and its ``kind``
   (:data:`KINDS`: function, class, registry or mapping).
2. **The reference**: a clean-room implementation in ``reference/``, imported
   and listed in ``__all__`` in ``reference/__init__.py``.
3. **The properties**: in ``properties/test_<group>.py``, each marked
   ``@requires(name)``, its docstring the documented behaviour it checks, every
   sentence asserted; inputs drawn from ``strategies/`` (a new kind of input: a
   strategy with its declared regimes and explicit examples reaching them).
4. **The surface**: :data:`layer_conformance.surface.COVERED` names the
   properties that exercise each of its parameters (and keys), or
   :data:`~layer_conformance.surface.EXEMPT` says why none can.
5. **A broken implementation** per new property in ``tests/broken/``, its
   ``KILLED_BY`` naming the properties that must catch it.

What follows from the record without another edit: the missing-name logic and
the ``requires`` check, the matrix and the reports, the transformers adapter's
lookup (``where``), the surface listing and the state the guard restores
(``kind``), and the self-tests' implementations that expose the contract names
(``tests/impls/names_only.py``, ``tests/impls/spy.py``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

__all__ = [
    "API",
    "BACKENDS",
    "GROUPS",
    "HOOKS",
    "KINDS",
    "NAMES",
    "REGISTRIES",
    "Api",
    "Backend",
    "backend_entry",
    "by_group",
]


#: What a contract name can be, and what follows from it.
KINDS: dict[str, str] = {
    "function": "a function (its named parameters are surface)",
    "class": "a class (its constructor's named parameters are surface)",
    "registry": "a dict-like class whose instances share global entries, kept in a class-level `_global_mapping` "
    "(its keys are surface; the guard restores its entries after every example)",
    "mapping": "a module-level dict of functions (its keys and its entries' named parameters are surface; the guard "
    "restores its entries after every example)",
}


@dataclass(frozen=True)
class Api:
    """One public name of the contract."""

    name: str
    group: str
    doc: str
    #: module (relative to ``transformers``) holding the name, per major version;
    #: ``None`` means that version does not have it.
    where: dict[str, str | None] = field(default_factory=dict)
    #: one of :data:`KINDS`
    kind: str = "function"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"contract name {self.name!r}: kind {self.kind!r} is not one of {', '.join(KINDS)}")

    @property
    def summary(self) -> str:
        return self.doc.strip().splitlines()[0]


_PT = "pytorch_utils"
_MASK = "masking_utils"
_ROPE = "modeling_rope_utils"

API: dict[str, Api] = {
    a.name: a
    for a in [
        # --- pytorch utilities -------------------------------------------------
        Api(
            "Conv1D",
            "conv1d",
            """\
            1D-convolutional layer of GPT/GPT-2: works like a linear layer with transposed weights.

            ``Conv1D(nf, nx)`` holds ``weight`` of shape ``(nx, nf)`` initialised from N(0, 0.02) and
            ``bias`` of shape ``(nf,)`` initialised to zeros; ``forward(x)`` maps ``(..., nx)`` to
            ``(..., nf)`` as ``x @ weight + bias``.
            """,
            {"4": _PT, "5": _PT},
            kind="class",
        ),
        Api(
            "apply_chunking_to_forward",
            "chunking",
            """\
            Chunk the input tensors along ``chunk_dim`` and apply ``forward_fn`` to each chunk.

            ``apply_chunking_to_forward(forward_fn, chunk_size, chunk_dim, *input_tensors)``: the number of
            parameters of ``forward_fn`` must equal the number of input tensors (ValueError otherwise);
            ``chunk_size == 0`` applies ``forward_fn`` once to the whole tensors; otherwise every input must
            have the same size along ``chunk_dim`` (ValueError) and that size must be a multiple of
            ``chunk_size`` (ValueError); the results of the chunks are concatenated along ``chunk_dim``.
            """,
            {"4": _PT, "5": _PT},
        ),
        Api(
            "find_pruneable_heads_and_indices",
            "pruning",
            """\
            Find the heads to prune and the indices to keep, taking already pruned heads into account.

            ``find_pruneable_heads_and_indices(heads, n_heads, head_size, already_pruned_heads)`` returns
            ``(heads_to_prune, index)``: the set of requested heads not pruned yet, and a LongTensor of the
            rows/columns of the current layout (``n_heads`` heads of ``head_size``) to keep.
            """,
            {"4": _PT, "5": None},
        ),
        Api(
            "prune_linear_layer",
            "pruning",
            """\
            Prune an ``nn.Linear`` to keep only the entries in ``index`` along ``dim`` (default 0).

            Returns a new layer whose parameters require grad; the bias is pruned only when ``dim == 0``.
            """,
            {"4": _PT, "5": _PT},
        ),
        Api(
            "prune_conv1d_layer",
            "pruning",
            """\
            Prune a ``Conv1D`` to keep only the entries in ``index`` along ``dim`` (default 1).

            Returns a new layer whose parameters require grad; the bias is pruned only when ``dim == 1``.
            """,
            {"4": _PT, "5": None},
        ),
        Api(
            "prune_layer",
            "pruning",
            """\
            Prune an ``nn.Linear`` (default dim 0) or a ``Conv1D`` (default dim 1) to the entries in ``index``.

            Any other layer type raises ValueError.
            """,
            {"4": _PT, "5": None},
        ),
        # --- layers ------------------------------------------------------------
        Api(
            "GradientCheckpointingLayer",
            "checkpointing",
            """\
            Base class for layers with gradient checkpointing.

            Off by default (``gradient_checkpointing = False``); when enabled (``gradient_checkpointing =
            True`` and ``_gradient_checkpointing_func`` set) and training, the layer's forward runs through
            the checkpointing function, with caching turned off.  With ``use_reentrant=True`` inputs that
            need gradients must be passed positionally.
            """,
            {"4": "modeling_layers", "5": "modeling_layers"},
            kind="class",
        ),
        # --- attention functions ------------------------------------------------
        Api(
            "AttentionInterface",
            "attention",
            """\
            Dict-like registry of attention functions.

            ``register(key, fn)`` adds a function for every instance; an assignment on one instance is a
            local override visible only there; deleting it restores the global entry.
            """,
            {"4": "modeling_utils", "5": "modeling_utils"},
            kind="registry",
        ),
        Api(
            "eager_attention_forward",
            "attention",
            """\
            Eager attention: ``softmax(q @ k^T * scaling + mask) @ v``, softmax in float32.

            ``(module, query, key, value, attention_mask, scaling, dropout=0.0, **kwargs)`` with q/k/v of
            shape ``[batch, heads, seq, head_dim]`` (k/v heads repeated ``module.num_key_value_groups``
            times); returns ``(output [batch, seq, heads, head_dim], weights [batch, heads, q, kv])``.
            The mask is additive (0 where attended).
            """,
            {"4": "models.llama.modeling_llama", "5": "models.llama.modeling_llama"},
        ),
        Api(
            "sdpa_attention_forward",
            "attention",
            """\
            Attention through ``torch.nn.functional.scaled_dot_product_attention``.

            Same call form and output layout as eager (weights are ``None``); with no mask it is causal
            (upper-left aligned) when ``q_len > 1`` unless ``module.is_causal`` is False or
            ``is_causal=False`` is passed.
            """,
            {"4": "integrations.sdpa_attention", "5": "integrations.sdpa_attention"},
        ),
        # --- masks ---------------------------------------------------------------
        Api(
            "AttentionMaskInterface",
            "masks",
            """\
            Dict-like registry of mask builders (``"sdpa"``, ``"eager"``, ...), with the registry semantics
            of AttentionInterface.
            """,
            {"4": _MASK, "5": _MASK},
            kind="registry",
        ),
        Api(
            "causal_mask_function",
            "masks",
            "Mask function ``(b, h, q, kv) -> kv <= q``.",
            {"4": _MASK, "5": _MASK},
        ),
        Api(
            "bidirectional_mask_function",
            "masks",
            "Mask function that attends everywhere.",
            {"4": None, "5": _MASK},
        ),
        Api(
            "sliding_window_overlay",
            "masks",
            "``sliding_window_overlay(w)``: mask function ``kv > q - w``.",
            {"4": _MASK, "5": _MASK},
        ),
        Api(
            "chunked_overlay",
            "masks",
            """\
            ``chunked_overlay(chunk_size, left_padding)``: mask function true when q and kv fall in the same
            chunk, counting positions from ``left_padding[b]``.
            """,
            {"4": _MASK, "5": _MASK},
        ),
        Api(
            "sliding_window_causal_mask_function",
            "masks",
            "``sliding_window_causal_mask_function(w)``: causal and ``kv > q - w``.",
            {"4": _MASK, "5": _MASK},
        ),
        Api(
            "chunked_causal_mask_function",
            "masks",
            "``chunked_causal_mask_function(chunk_size, left_padding)``: causal and same chunk.",
            {"4": _MASK, "5": _MASK},
        ),
        Api(
            "padding_mask_function",
            "masks",
            "``padding_mask_function(padding_mask)``: mask function ``padding_mask[b, kv]``.",
            {"4": _MASK, "5": _MASK},
        ),
        Api(
            "and_masks",
            "masks",
            "``and_masks(*fns)``: the intersection of mask functions; a non-callable argument is an error.",
            {"4": _MASK, "5": _MASK},
        ),
        Api(
            "or_masks",
            "masks",
            "``or_masks(*fns)``: the union of mask functions; a non-callable argument is an error.",
            {"4": _MASK, "5": _MASK},
        ),
        Api(
            "sdpa_mask",
            "masks",
            """\
            Boolean mask ``[batch, 1, q_length, kv_length]``, True where attended, or None when a plain causal
            mask may be replaced by sdpa's ``is_causal``.

            Canonical call: ``sdpa_mask(batch_size, q_length, kv_length, q_offset=0, kv_offset=0,
            mask_function=causal_mask_function, attention_mask=None, local_size=None,
            allow_is_causal_skip=True)``.  transformers 4.53 to 5.3 take ``cache_position`` instead of
            ``q_length`` and ``q_offset``; the adapter translates.
            """,
            {"4": _MASK, "5": _MASK},
        ),
        Api(
            "eager_mask",
            "masks",
            """\
            Float mask ``[batch, 1, q_length, kv_length]``: 0 where attended, ``finfo(dtype).min`` elsewhere.

            Canonical call: ``eager_mask(batch_size, q_length, kv_length, q_offset=0, kv_offset=0,
            mask_function=causal_mask_function, attention_mask=None, dtype=torch.float32)``.
            """,
            {"4": _MASK, "5": _MASK},
        ),
        # --- the mask entry points models call ----------------------------------------
        Api(
            "find_packed_sequence_indices",
            "model_masks",
            """\
            The sequence each token belongs to when several sequences are packed into one batch row.

            ``find_packed_sequence_indices(position_ids [batch, seq])``: a new sequence starts wherever a
            position is not the previous one plus 1; returns the index of each token's sequence within its row
            (``[[0, 0, 1, 1, 1, 2]]`` for sequences of 2, 3 and 1 tokens), or None when every row holds one
            sequence.
            """,
            {"4": _MASK, "5": _MASK},
        ),
        Api(
            "packed_sequence_mask_function",
            "model_masks",
            "``packed_sequence_mask_function(packed_sequence_mask)``: mask function true when q and kv belong to "
            "the same packed sequence (``packed_sequence_mask[b, q] == packed_sequence_mask[b, kv]``).",
            {"4": _MASK, "5": _MASK},
        ),
        Api(
            "create_causal_mask",
            "model_masks",
            """\
            The causal mask a model's full-attention layers get, built by the builder its config selects.

            Canonical call: ``create_causal_mask(config, inputs_embeds, attention_mask, position_ids=None,
            or_mask_function=None, and_mask_function=None)``, without a cache (queries and keys are the same
            tokens; a cache's sizes reach the builders as offsets, judged by the builder properties).  The builder is
            ``AttentionMaskInterface[config._attn_implementation]`` (a key with no builder: None, no mask); it
            gets the batch size and lengths of ``inputs_embeds`` and the 2-D padding mask, and the causal mask
            function, united with ``or_mask_function`` and intersected with ``and_mask_function``; without a
            padding mask, ``position_ids`` that restart (packed sequences) confine each token to its own
            sequence, counted from its start.  A 4-D ``attention_mask`` is returned as it is.  Releases take a
            cache (``cache``, ``past_key_values``) and older ones ``cache_position``; the adapter passes no cache
            and the queries' positions.
            """,
            {"4": _MASK, "5": _MASK},
        ),
        Api(
            "create_sliding_window_causal_mask",
            "model_masks",
            "The mask of sliding-window layers: as ``create_causal_mask`` with ``sliding_window_causal_mask_function"
            "(config.sliding_window)`` (the builder also gets the window as ``local_size``).",
            {"4": _MASK, "5": _MASK},
        ),
        Api(
            "create_chunked_causal_mask",
            "model_masks",
            "The mask of chunked-attention layers: as ``create_causal_mask`` with ``chunked_causal_mask_function"
            "(config.attention_chunk_size, left_padding)``, chunks counted from each row's first real token (its "
            "left padding read off the 2-D mask) or from each packed sequence's start.",
            {"4": _MASK, "5": _MASK},
        ),
        Api(
            "create_bidirectional_mask",
            "model_masks",
            """\
            The mask of encoder (and cross-attention) layers: every key, less the padding.

            Canonical call: ``create_bidirectional_mask(config, inputs_embeds, attention_mask,
            encoder_hidden_states=None, or_mask_function=None, and_mask_function=None)``: queries
            from ``inputs_embeds``, keys from ``encoder_hidden_states`` when given (the 2-D mask is theirs),
            the builder of ``config._attn_implementation`` (None when it has none).
            """,
            {"4": None, "5": _MASK},
        ),
        Api(
            "create_masks_for_generate",
            "model_masks",
            """\
            The masks of every kind of layer a model has, as its forward builds them.

            Same call as ``create_causal_mask``; with ``config.layer_types`` a dict from each layer type
            present (``full_attention``, ``sliding_attention``, ``chunked_attention``) to its entry point's
            mask; otherwise the sliding-window mask when ``config.sliding_window`` is set, else the chunked
            one when ``config.attention_chunk_size`` is, else the causal one.
            """,
            {"4": _MASK, "5": _MASK},
        ),
        # --- rope ---------------------------------------------------------------
        Api(
            "dynamic_rope_update",
            "rope",
            """\
            Decorator for a rotary embedding's ``forward(self, x, position_ids)`` that updates ``inv_freq``
            in the forward pass for dynamic RoPE types (``dynamic`` grows and resets, ``longrope`` switches
            between short and long factors).
            """,
            {"4": _ROPE, "5": _ROPE},
        ),
        Api(
            "ROPE_INIT_FUNCTIONS",
            "rope",
            """\
            Mapping ``rope_type -> fn(config, device, seq_len=None) -> (inv_freq, attention_scaling)``.

            5.x has no ``"default"`` entry (each rotary class computes it); its adapter supplies one.
            """,
            {"4": _ROPE, "5": _ROPE},
            kind="mapping",
        ),
        Api(
            "rotary_embedding",
            "rope",
            """\
            The rotation a model applies to its query and key at their positions, in one forward.

            ``rotary_embedding(config, query, key, position_ids, interleaved=False) -> (query, key)``, query
            ``[batch, heads, seq, head_dim]``, key ``[batch, kv_heads, seq, head_dim]``, ``position_ids``
            ``[batch, seq]``: the frequencies of the config's RoPE type for the sequence length
            ``max(position_ids) + 1`` rotate the first ``2n`` features in pairs (``(i, i + n)``, the GPT-NeoX
            half layout, or ``(2i, 2i + 1)`` interleaved, GPT-J), cos and sin times the attention scaling; the
            other features pass through.  transformers has no one function for it: its adapter composes the
            model's rotary class (``ROPE_INIT_FUNCTIONS``, ``dynamic_rope_update``) with GPT-NeoX's (half) and
            Cohere's (interleaved) ``apply_rotary_pos_emb``; other libraries expose it as their rotary module's
            forward.
            """,
            {"4": None, "5": None},
        ),
    ]
}

#: Every public name, in contract order.
NAMES: tuple[str, ...] = tuple(API)

#: Group name -> names in it.
GROUPS: dict[str, tuple[str, ...]] = {}
for _api in API.values():
    GROUPS.setdefault(_api.group, ())
    GROUPS[_api.group] += (_api.name,)


def by_group(group: str) -> tuple[str, ...]:
    """The names of one group of the contract."""
    return GROUPS[group]


#: Names whose keys are surface and whose global entries the guard restores: registries and mappings.
REGISTRIES: tuple[str, ...] = tuple(n for n, a in API.items() if a.kind in ("registry", "mapping"))


#: Optional attributes an implementation (or its adapter) may expose to say how it
#: departs from the canonical forms in ways the documentation allows.  They are not
#: contract names: an implementation without them gets the default.
HOOKS: dict[str, str] = {
    "CHECKPOINTING_CACHE_KWARGS": (
        "Tuple of the cache keyword arguments GradientCheckpointingLayer sets to None while checkpointing. "
        "Default: the reference's ('cache', 'past_key_values', 'past_key_value', 'layer_past'); "
        "transformers 4.57: ('past_key_value', 'past_key_values', 'layer_past'); 5.x: ('cache', 'layer_past')."
    ),
    "LOGGERS": (
        "Names of the loggers the implementation warns through (GradientCheckpointingLayer's caching "
        "warning). Default: the root logger; transformers: ('transformers',), whose logger does not propagate."
    ),
    "ATTENTION_BACKENDS": (
        "Mapping key -> dict of Backend fields (layer_conformance.contract.Backend) declaring the capabilities of "
        "attention backends the implementation registers in its AttentionInterface, or overriding those of a known "
        "key. A registered function may instead carry them itself as a dict attribute `layer_conformance_backend`. "
        "Default: BACKENDS for the known keys; an undeclared key gets Backend's defaults (the mask builder "
        "registered under the same key, else eager's; dropout, softcap and sinks rejected)."
    ),
    "ATTENTION_FUNCTIONS": (
        "Mapping key -> attention function of the AttentionInterface call form, for an implementation with "
        "attention functions but no registry of its own (a library whose models call one function: mlx-lm's "
        "'mlx'). Each key is a backend like a registered one (declared in ATTENTION_BACKENDS) and is selected by "
        "default beside eager and sdpa; the registry properties do not judge it. Default: none."
    ),
    "DROPPED_ARGUMENTS": (
        "Mapping of contract names to the arguments of their canonical call form the implementation accepts but "
        "has no counterpart for, and drops (transformers 4.53 to 4.55: chunked_overlay and "
        "chunked_causal_mask_function take no left_padding). The properties of that name still pass them, so the "
        "missing behaviour shows as the failure it is; properties judging other names that build on it pass values "
        "for which the argument makes no difference (no left padding). Default: none."
    ),
    "canonical_mask_builder": (
        "Callable turning a mask builder found in the implementation's AttentionMaskInterface into the canonical "
        "call form (batch_size, q_length, kv_length, q_offset=0, kv_offset=0, mask_function=..., attention_mask=..., "
        "...). Default: the builder as it is. transformers: releases whose builders take cache_position get a "
        "translating wrapper (chosen from the builder's signature)."
    ),
    "native_mask_builder": (
        "Callable turning a mask builder of the canonical call form into the form the implementation's mask entry "
        "points (create_causal_mask, ...) call the builders of its AttentionMaskInterface in: the inverse of "
        "canonical_mask_builder, for a builder a property registers. Default: the builder as it is. transformers "
        "4.53 to 5.3: a builder taking cache_position (and calling the canonical one with q_length, q_offset)."
    ),
    "PUBLIC_FUNCTIONS": (
        "Mapping of the public functions the implementation has beside the contract names, each under its dotted "
        "name ('masking_utils.blockwise_overlay'), for the surface check: each must be covered by a property or "
        "declared out of scope (layer_conformance.surface.EXEMPT). Default: none. transformers: every public "
        "function of masking_utils and modeling_rope_utils."
    ),
    "SURFACE_ALIASES": (
        "Mapping of surface items (layer_conformance.surface) the implementation has under another form to the "
        "canonical item the properties exercise them through, e.g. {'sdpa_mask(cache_position)': "
        "'sdpa_mask(q_length)'} for an adapter translating q_length and q_offset into cache_position. "
        "Default: none."
    ),
    "DESIGN_DIFFERENCES": (
        "Sequence of layer_conformance.implementation.Difference (or dicts of its fields): the rules the "
        "implementation deliberately does differently, each with the tests it affects, the rule in the "
        "implementation's own words, where it says so and the failure it causes. Those tests are reported "
        "'differs' (neither passed nor a bug); every other test is judged by the contract. Default: none."
    ),
    "MISSING_REASONS": (
        "Mapping of contract names the implementation lacks to why (an adapter's library has no counterpart: "
        "'vLLM's attention runs in its engine over a paged KV cache'). The reason joins the missing outcome's. "
        "Default: none."
    ),
    "rope_config": (
        "Callable turning the suite's canonical RoPE config (layer_conformance.canonical.RopeConfig) into the "
        "config object the implementation's ROPE_INIT_FUNCTIONS and dynamic_rope_update read, or None for a "
        "config its form cannot express (the draw is discarded). Default: the canonical config itself."
    ),
}


# --------------------------------------------------------------------------- attention backends


@dataclass(frozen=True)
class Backend:
    """What an attention backend documents: the masks it reads and the features it has.

    A *backend* is a key of ``AttentionInterface`` (``"sdpa"``, ``"flex_attention"``, a kernel
    author's ``"my_kernel"``); ``"eager"`` is the contract's ``eager_attention_forward``, which
    transformers keeps per model instead of registering it.  Models call
    ``ALL_ATTENTION_FUNCTIONS[key](module, query, key, value, attention_mask, scaling=..., dropout=...,
    **kwargs)`` with the mask ``ALL_MASK_ATTENTION_FUNCTIONS[builder](...)`` built.  Every attention
    property runs for every selected backend and reads these fields to know what to expect: a
    declared feature must work as documented, a rejected one must raise a clear error (an exception
    whose message names the feature), an ignored one must change nothing.  The defaults are those of
    a key nobody declared: the mask builder registered under the same key (else eager's), additive masks,
    no weights returned, dropout, softcap and sinks rejected.
    """

    key: str
    #: the contract name of the function (eager and sdpa), or None: found in ``AttentionInterface``
    name: str | None = None
    #: the ``AttentionMaskInterface`` key of the mask builder its models use; None: the backend's own key
    #: when a builder is registered under it, else eager's
    builder: str | None = None
    #: the contract name of that builder when it has one (sdpa_mask, eager_mask)
    builder_name: str | None = None
    #: the mask form it reads: "additive" (0 / finfo.min floats), "boolean" (True attends),
    #: "blockmask" (torch's flex BlockMask), "padding2d" (the 2-D padding mask or None, causal in the kernel)
    mask: str = "additive"
    #: what ``attention_mask=None`` means: "all" keys, or "causal" (sdpa: causal aligned to the upper left for
    #: several queries unless ``is_causal=False`` / ``module.is_causal`` is False; a single query sees all)
    none_mask: str = "all"
    #: accepts any additive float mask ``[batch, 1, q, kv]`` (biases, not only 0 / finfo.min)
    additive: bool = True
    #: the second value it returns: "weights" ``[batch, heads, q, kv]``, "none", or "lse" (log-sum-exp per row)
    weights: str = "none"
    #: "training" (applied only when ``module.training``), "as_given" (applied whenever > 0), "rejected" (> 0 raises)
    dropout: str = "rejected"
    #: logit soft-capping ``softcap * tanh(scores / softcap)``: "supported", "rejected", "ignored"
    softcap: str = "rejected"
    #: attention sinks ``s_aux`` (one logit per head joining every row's softmax): "supported", "rejected", "ignored"
    sinks: str = "rejected"
    #: gradients: "supported", or "rejected" (backward raises an error naming it: flex on the CPU)
    backward: str = "supported"
    #: how a sliding window reaches it: through the "mask", or the ``sliding_window`` keyword ("kwarg")
    window: str = "mask"
    #: compiled by its implementation (torch.compile): run eagerly unless ``--attention-compile compiled``
    compiles: bool = False
    #: Python modules it needs (a missing one makes the backend missing, with the reason)
    packages: tuple[str, ...] = ()
    #: device types it runs on (None: any)
    devices: tuple[str, ...] | None = None
    #: "standard", or "paged" (needs a paged cache: the suite cannot drive its call form and skips it)
    call_form: str = "standard"
    #: the module carries ``config._attn_implementation`` (flash reads it)
    needs_config: bool = False
    #: field overrides per device type, e.g. flex on the CPU returns no LSE and rejects sinks
    per_device: dict[str, dict[str, object]] = field(default_factory=dict)

    def on(self, device_type: str) -> Backend:
        """The capabilities on one device type."""
        overrides = self.per_device.get(device_type)
        if not overrides:
            return self
        return dataclasses.replace(self, **overrides)  # type: ignore[arg-type]

    @property
    def label(self) -> str:
        """The name results are filed under in the matrix."""
        return self.name or f"AttentionInterface[{self.key!r}]"

    @property
    def builder_label(self) -> str:
        return self.builder_name or f"AttentionMaskInterface[{self.builder or self.key!r}]"


_FLASH = dict(
    mask="padding2d",
    none_mask="causal",
    additive=False,
    weights="none",
    dropout="as_given",
    softcap="supported",
    window="kwarg",
    devices=("cuda",),
    needs_config=True,
)

#: The backends transformers documents, with what each documents (5.x; 4.57 has the same keys but no
#: flash_attention_4).  ``all`` (``--attention-backend all``) is every key of the implementation's
#: AttentionInterface plus eager.
BACKENDS: dict[str, Backend] = {
    b.key: b
    for b in [
        Backend(
            "eager",
            name="eager_attention_forward",
            builder="eager",
            builder_name="eager_mask",
            mask="additive",
            weights="weights",
            dropout="training",
            softcap="ignored",
            sinks="ignored",
        ),
        Backend(
            "sdpa",
            name="sdpa_attention_forward",
            builder="sdpa",
            builder_name="sdpa_mask",
            mask="boolean",
            none_mask="causal",
            weights="none",
            dropout="as_given",
            softcap="rejected",
            sinks="ignored",
        ),
        Backend(
            "flex_attention",
            builder="flex_attention",
            mask="blockmask",
            weights="lse",
            dropout="rejected",
            softcap="supported",
            sinks="supported",
            compiles=True,
            per_device={"cpu": {"weights": "none", "sinks": "rejected", "backward": "rejected"}},
        ),
        Backend("flash_attention_2", builder="flash_attention_2", packages=("flash_attn",), sinks="rejected", **_FLASH),
        Backend(
            "flash_attention_3",
            builder="flash_attention_3",
            packages=("flash_attn_interface",),
            sinks="supported",
            **_FLASH,
        ),
        Backend(
            "flash_attention_4", builder="flash_attention_4", packages=("flash_attn.cute",), sinks="supported", **_FLASH
        ),
    ]
}

#: The backends a run selects unless ``--attention-backend`` says otherwise.
DEFAULT_BACKENDS = ("eager", "sdpa")


def backend_entry(key: str, declared: dict[str, object] | None = None) -> Backend:
    """The documented capabilities of ``key``, with an implementation's declaration on top; a paged key
    (``paged|eager``, ``sdpa_paged``, ...) needs a paged cache."""
    base = BACKENDS.get(key)
    if base is None:
        # paged attention: "paged|eager" (5.x), "paged_attention", "sdpa_paged", "eager_paged" (4.5x)
        base = Backend(key, call_form="paged" if "paged" in key else "standard")
    if declared:
        unknown = set(declared) - {f.name for f in dataclasses.fields(Backend)}
        if unknown:
            raise ValueError(f"backend {key!r}: unknown capability fields {sorted(unknown)}")
        base = dataclasses.replace(base, **declared)  # type: ignore[arg-type]
    return base
