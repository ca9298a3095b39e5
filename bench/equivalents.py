"""Surviving mutants of ``reference/`` classified as equivalent, with the reason each one is.

Keyed by (module, the mutated line as cosmic-ray writes it, stripped), so that a
classification follows its line when code above it moves, and stops applying
(the survivor shows as unclassified in ``docs/mutation.md``) when the line
itself changes.  A survivor that is not equivalent is not listed here: it gets
a property, and a broken implementation in ``tests/broken`` that the property
kills.

The classes:

- *identity*: ``is`` for ``==`` (or back) where CPython makes them agree: small
  ints, interned string literals, dtype singletons, functions.
- *domain*: the mutant differs only on inputs no caller can pass (negative
  lengths, non-4-D attention tensors, a rotary dim that is odd, ...).
- *no-op*: both branches compute the same values (an identity shortcut, a pad
  beyond what is read, a boolean product for a logical and).
- *contract*: the mutant still meets the documented contract (``sdpa_mask``
  *may* return None for a causal mask; returning the mask instead is allowed).
- *continuity*: a strict/non-strict comparison at a boundary where both sides of
  a piecewise formula meet.
"""

from __future__ import annotations

SDPA_NONE_OPTIONAL = (
    "contract: sdpa_mask may return None only where sdpa's is_causal computes the mask; a mutant that "
    "returns the mask more often (never None) is still correct"
)

EQUIVALENT: dict[tuple[str, str], str] = {
    # ------------------------------------------------------------------ pytorch_utils
    ("pytorch_utils", "if len(input_tensors) <= 0:"): "domain: a length is never negative",
    ("pytorch_utils", "if n_params is not len(input_tensors):"): "identity: small ints are cached",
    ("pytorch_utils", "if chunk_size == 0:"): (
        "domain: the documented no-chunking value is 0; negative chunk sizes are undocumented and not drawn"
    ),
    ("pytorch_utils", "for tensor in input_tensors[ 0:]:"): "no-op: also compares the first tensor with itself",
    ("pytorch_utils", "if size % chunk_size > 0:"): "no-op: size % chunk_size is never negative for chunk_size > 0",
    ("pytorch_utils", "position = head - sum(1 for pruned in already if pruned <= head)"): (
        "domain: a head to prune is never among the already pruned ones (heads - already)"
    ),
    (
        "pytorch_utils",
        "new.bias = _new_parameter(layer.bias.index_select( -1, index) if dim == 0 else layer.bias)",
    ): "no-op: the bias is 1-D, dim -1 is dim 0",
    (
        "pytorch_utils",
        "new.bias = _new_parameter(layer.bias.index_select(0, index) if dim <= 0 else layer.bias)",
    ): "domain: dim is normalized to 0 or 1 two lines above",
    (
        "pytorch_utils",
        "new.bias = _new_parameter(layer.bias.index_select( -1, index) if dim == 1 else layer.bias)",
    ): "no-op: the bias is 1-D, dim -1 is dim 0",
    (
        "pytorch_utils",
        "new.bias = _new_parameter(layer.bias.index_select(0, index) if dim >= 1 else layer.bias)",
    ): "domain: dim is normalized to 0 or 1 two lines above",
    # ------------------------------------------------------------------ layers
    ("layers", "outermost = type(self).forward == checkpointed_forward"): "identity: functions compare by identity",
    # ------------------------------------------------------------------ masks
    (
        "masks",
        "result = result * torch.as_tensor(fn(batch_idx, head_idx, q_idx, kv_idx), device=result.device)",
    ): "no-op: the product of two bool tensors is their logical and (a bool tensor)",
    (
        "masks",
        "result = result + torch.as_tensor(fn(batch_idx, head_idx, q_idx, kv_idx), device=result.device)",
    ): "no-op: the sum of two bool tensors is their logical or (a bool tensor)",
    ("masks", "return q_idx >= -1"): "domain: query positions are never negative",
    ("masks", "if mask.shape[1] >= length:"): "no-op: the padding mask is 2-D, shape[1] is shape[-1]",
    ("masks", "if mask.shape[+1] >= length:"): "no-op: the padding mask is 2-D, shape[1] is shape[-1]",
    ("masks", "if mask.shape[-1] is length:"): (
        "no-op: the other branch pads by length - shape, and a negative pad crops: both give the first length columns"
    ),
    ("masks", "if mask.shape[-1] > length:"): "no-op: at equal lengths, cropping to length and padding by 0 agree",
    ("masks", "if mask.shape[-1] == length:"): (
        "no-op: a longer mask goes to the pad branch, whose negative pad crops to length"
    ),
    **{
        ("masks", f"return torch.nn.functional.pad(mask, (0, {pad}), value=False)"): (
            "no-op: pads further with False than any key position read (kv_offset + kv_length)"
        )
        for pad in (
            "length << mask.shape[-1]",
            "length * mask.shape[-1]",
            "length + mask.shape[-1]",
            "length ^ mask.shape[-1]",
            "length | mask.shape[-1]",
        )
    },
    ("masks", "return torch.nn.functional.pad(mask, (0, length - mask.shape[+1]), value=False)"): (
        "no-op: the padding mask is 2-D, shape[1] is shape[-1]"
    ),
    ("masks", "return torch.nn.functional.pad(mask, (0, length - mask.shape[1]), value=False)"): (
        "no-op: the padding mask is 2-D, shape[1] is shape[-1]"
    ),
    ("masks", "q_length, kv_length = mask.shape[2:]"): "no-op: the mask is 4-D, shape[2:] is shape[-2:]",
    ("masks", "q_length, kv_length = mask.shape[+2:]"): "no-op: the mask is 4-D, shape[2:] is shape[-2:]",
    ("masks", "if q_length <= 1:"): "domain: there is always at least one query",
    ("masks", "if q_length >= 1:"): (
        "domain: with several queries this skips only an all-True mask, which a causal-family mask of a real "
        "call (queries among the last key positions) never is unless it is also lower-triangular "
        "(one key column); callers pass allow_is_causal_skip only for causal-family masks"
    ),
    ("masks", "expected = torch.ones( 2, kv_length, dtype=torch.bool, device=mask.device)"): (
        "no-op: compared by broadcasting against [.., 1, kv]: all() sees the same values twice"
    ),
    ("masks", "return bool((mask > expected).all())"): SDPA_NONE_OPTIONAL,
    ("masks", "allow_is_causal_skip: bool = False,"): SDPA_NONE_OPTIONAL,
    ("masks", "if allow_is_causal_skip and  torch.compiler.is_compiling() and _is_causal_equivalent(mask):"): (
        SDPA_NONE_OPTIONAL
    ),
    # ------------------------------------------------------------------ attention
    ("attention", "if groups == 0:"): "no-op: the shortcut skips repeat_interleave(1), an identity",
    ("attention", "if groups <= 1:"): "no-op: the shortcut skips repeat_interleave(1), an identity",
    ("attention", "if groups < 1:"): "no-op: the shortcut skips repeat_interleave(1), an identity",
    ("attention", 'return int(getattr(module, "num_key_value_groups", 0) or 1)'): (
        "no-op: a missing attribute gives 0, and 0 or 1 is 1"
    ),
    ("attention", 'return int(getattr(module, "num_key_value_groups", 1) or 2)'): (
        "domain: differs only for num_key_value_groups set to 0 or None, which no model sets"
    ),
    ("attention", 'return int(getattr(module, "num_key_value_groups", 1) or 0)'): (
        "domain: differs only for num_key_value_groups set to 0 or None, which no model sets"
    ),
    ("attention", "scores = torch.matmul(query, key.transpose(+2, -1)) * scaling"): (
        "no-op: keys are 4-D, dim 2 is dim -2"
    ),
    ("attention", "scores = torch.matmul(query, key.transpose(2, -1)) * scaling"): (
        "no-op: keys are 4-D, dim 2 is dim -2"
    ),
    ("attention", "if attention_mask.dtype is torch.bool:"): "identity: dtypes are singletons",
    ("attention", "is_causal = bool(is_causal) and attention_mask is None and query.shape[2] != 1"): (
        "domain: there is always at least one query"
    ),
    # ------------------------------------------------------------------ rope
    (
        "rope",
        'head_dim = getattr(config, "head_dim", None) or config.hidden_size / config.num_attention_heads',
    ): "domain: hidden_size is a multiple of num_attention_heads in every model (int() then truncates alike)",
    ("rope", "return 1.0 if scale < 1 else 0.1 * mscale * math.log(scale) + 1.0"): (
        "continuity: at scale 1 the formula gives 0.1 * mscale * log(1) + 1 = 1"
    ),
    ("rope", "if low is high:"): "identity: the clamped and truncated bounds are small ints",
    ("rope", "if low >= high:"): (
        "no-op: when low > high every dim index lies below both bounds and the ramp clamps to 1 either way"
    ),
    (
        "rope",
        "ramp = ((torch.arange(dim / 2, dtype=torch.float32) - low) / (high - low)).clamp(0, 1).to(device)",
    ): "domain: the rotary dim is even, dim / 2 == dim // 2",
    (
        "rope",
        "attention_factor = 1.0 if factor < 1.0 else math.sqrt(1 + math.log(factor) / math.log(original))",
    ): "continuity: at factor 1 the formula gives sqrt(1 + 0) = 1",
    ("rope", "scaled = torch.where(wavelen >= low_wavelen, inv_freq / factor, inv_freq)"): (
        "continuity: at wavelen == original / low_freq_factor the blend is inv_freq / factor, as the low band"
    ),
    ("rope", "medium = (wavelen >= high_wavelen) * (wavelen <= low_wavelen)"): (
        "no-op: the product of two bool tensors is their logical and"
    ),
    ("rope", "medium = (wavelen >= high_wavelen) & (wavelen < low_wavelen)"): (
        "continuity: at the low band edge the blend equals inv_freq / factor, as the low band"
    ),
    ("rope", "medium = (wavelen > high_wavelen) & (wavelen <= low_wavelen)"): (
        "continuity: at the high band edge the blend equals inv_freq, as the high band"
    ),
    (
        "rope",
        "elif seq_len < module.original_max_seq_len and module.max_seq_len_cached is not "
        "module.original_max_seq_len:  # reset",
    ): (
        "no-op: the cache never shrinks below the original length, and resetting when it was not grown "
        "registers the same frequencies"
    ),
    (
        "rope",
        "elif seq_len < module.original_max_seq_len and module.max_seq_len_cached != "
        "module.original_max_seq_len:  # reset",
    ): "no-op: the cache never shrinks below the original length, so != is >",
    ("rope", 'long_inv_freq, _ = ROPE_INIT_FUNCTIONS["longrope"](module.config, device, original + 2)'): (
        "no-op: any length past the original selects the long factors"
    ),
    ("rope", 'long_inv_freq, _ = ROPE_INIT_FUNCTIONS["longrope"](module.config, device, original << 1)'): (
        "no-op: any length past the original selects the long factors"
    ),
    ("rope", 'elif self.rope_type is "longrope":'): "identity: string literals are interned",
}


def reason(module: str, diff: str) -> str | None:
    """The recorded reason the mutant with this unified ``diff`` of ``reference/<module>.py`` is equivalent."""
    added = [line[1:].strip() for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    return EQUIVALENT.get((module, added[0])) if added else None
