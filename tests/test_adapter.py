"""The transformers adapter chooses every call form by feature detection, never by version number.

No transformers is needed: each test builds a fake ``transformers`` package whose functions have the
call forms of some release (``cache_position`` mask builders, chunked mask functions without
``left_padding``, the ``rope_scaling`` config form) under a version number that says otherwise."""

from __future__ import annotations

import importlib
import sys
import textwrap
from types import SimpleNamespace

import pytest
import torch

from layer_conformance.adapters import transformers as adapter
from layer_conformance.impls import ImplError
from layer_conformance.support.masks import honours_left_padding

OLD_MASKS = """
    def causal_mask_function(batch_idx, head_idx, q_idx, kv_idx):
        return kv_idx <= q_idx

    def chunked_overlay(chunk_size):
        return lambda b, h, q, kv: kv // chunk_size == q // chunk_size

    def chunked_causal_mask_function(chunk_size):
        return lambda b, h, q, kv: (kv // chunk_size == q // chunk_size) & (kv <= q)

    def sdpa_mask(batch_size, cache_position, kv_length, kv_offset=0, mask_function=None, attention_mask=None, **kwargs):
        return ("sdpa_mask", batch_size, cache_position.tolist(), kv_length, kv_offset, kwargs)

    def eager_mask(batch_size, cache_position, kv_length, kv_offset=0, mask_function=None, attention_mask=None, dtype=None, **kwargs):
        return ("eager_mask", batch_size, cache_position.tolist(), kv_length, kv_offset, kwargs)
    """

NEW_MASKS = """
    def causal_mask_function(batch_idx, head_idx, q_idx, kv_idx):
        return kv_idx <= q_idx

    def chunked_overlay(chunk_size, left_padding):
        return lambda b, h, q, kv: (kv - left_padding[b]) // chunk_size == (q - left_padding[b]) // chunk_size

    def sdpa_mask(batch_size, q_length, kv_length, q_offset=0, kv_offset=0, mask_function=None, **kwargs):
        return ("sdpa_mask", batch_size, q_length, kv_length, q_offset, kv_offset)
    """


def make_transformers(root, version: str, masks: str | None, *, standardizes: bool) -> None:
    package = root / "transformers"
    package.mkdir(exist_ok=True)
    mixin = "    def standardize_rope_params(self):\n        pass\n" if standardizes else "    pass\n"
    config = f"class PretrainedConfig:\n{mixin}\n" + ("PreTrainedConfig = PretrainedConfig\n" if standardizes else "")
    (package / "__init__.py").write_text(f"__version__ = {version!r}\n__file__ = 'fake'\n{config}")
    if masks is not None:
        (package / "masking_utils.py").write_text(textwrap.dedent(masks))


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """A function building and loading a fake transformers release (removed from sys.modules afterwards)."""
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [m for m in sys.modules if m == "transformers" or m.startswith("transformers.")]:
        monkeypatch.delitem(sys.modules, name)

    def load(version: str, masks: str | None, *, standardizes: bool = False):
        make_transformers(tmp_path, version, masks, standardizes=standardizes)
        importlib.invalidate_caches()
        try:
            return adapter.load()
        finally:
            for name in [m for m in sys.modules if m == "transformers" or m.startswith("transformers.")]:
                del sys.modules[name]

    return load


def test_old_call_forms_are_found_by_signature_whatever_the_version(fake):
    impl = fake("5.30.0", OLD_MASKS)  # a version number that says "new", functions of 4.53
    out = impl.sdpa_mask(2, 3, 5, q_offset=4, mask_function=None, allow_is_causal_skip=False)
    assert out == ("sdpa_mask", 2, [4, 5, 6], 5, 0, {"allow_is_causal_skip": False})
    assert impl.eager_mask(1, 2, 2, device="cpu")[:4] == ("eager_mask", 1, [0, 1], 2)
    assert impl.hook("SURFACE_ALIASES") == {
        "sdpa_mask(cache_position)": "sdpa_mask(q_length)",
        "eager_mask(cache_position)": "eager_mask(q_length)",
    }
    # chunked functions without left_padding: driven in the canonical form, the padding dropped and declared
    overlay = impl.chunked_overlay(3, torch.tensor([1]))
    assert bool(overlay(0, 0, torch.tensor(4), torch.tensor(3)))  # chunks counted from 0: the release's behaviour
    assert impl.hook("DROPPED_ARGUMENTS") == {
        "chunked_overlay": ("left_padding",),
        "chunked_causal_mask_function": ("left_padding",),
    }
    assert not honours_left_padding(impl)
    forms = impl.details["call_forms"]
    assert "sdpa_mask: cache_position" in forms and "chunked_overlay: (chunk_size) without left_padding" in forms
    assert "RoPE config: rope_scaling + rope_theta" in forms
    assert impl.details["note"].startswith(f"release outside the tested range {adapter.TESTED}")


def test_new_call_forms_are_used_as_they_are_whatever_the_version(fake):
    impl = fake("4.53.0", NEW_MASKS, standardizes=True)  # a version number that says "old", functions of 5.24
    assert impl.sdpa_mask(2, 3, 5, q_offset=4) == ("sdpa_mask", 2, 3, 5, 4, 0)
    assert impl.hook("SURFACE_ALIASES") is None and impl.hook("DROPPED_ARGUMENTS") is None
    assert honours_left_padding(impl)
    assert not impl.has("chunked_causal_mask_function")  # absent there: missing, not failed
    assert "note" not in impl.details
    assert "RoPE config: rope_parameters" in impl.details["call_forms"]


def test_rope_config_form_follows_the_config_class():
    config = SimpleNamespace(
        hidden_size=8,
        num_attention_heads=1,
        max_position_embeddings=16,
        derive_head_dim=False,
        head_dim=8,
        layer_type=None,
        layer_types=[],
        rope_type="linear",
        rope_parameters={"rope_type": "linear", "rope_theta": 10.0, "factor": 2.0},
        param=lambda name: {"factor": 2.0}.get(name),
    )

    class Old:
        pass

    class New:
        def standardize_rope_params(self):
            pass

    old = adapter._rope_scaling_config(Old, config)
    assert old.rope_theta == 10.0 and old.rope_scaling == {"rope_type": "linear", "factor": 2.0}
    new = adapter._rope_parameters_config(New, config)
    assert new.rope_parameters == config.rope_parameters and not hasattr(new, "rope_scaling")
    assert adapter._rope_form(SimpleNamespace(PretrainedConfig=Old)) == "rope_scaling"
    assert adapter._rope_form(SimpleNamespace(PretrainedConfig=Old, PreTrainedConfig=New)) == "rope_parameters"


def test_a_release_without_masking_utils_is_a_usage_error(fake):
    with pytest.raises(ImplError, match=r"transformers 4\.52\.4 has no transformers\.masking_utils.*4\.53 and later"):
        fake("4.52.4", None)


def test_registry_builders_get_the_same_translation():
    def old(batch_size, cache_position, kv_length, kv_offset=0, **kwargs):
        return cache_position.tolist()

    def new(batch_size, q_length, kv_length, q_offset=0, **kwargs):
        return q_length

    assert adapter._canonical_mask_builder(old)(1, 2, 3, q_offset=1) == [1, 2]
    assert adapter._canonical_mask_builder(new) is new


def test_the_tested_range_is_the_published_sweep():
    """The range the adapter states as tested is the one the published sweep covers: the latest patch of every
    minor release from 4.53 (the first with masking_utils) to 5.24, and nothing outside the range."""
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version

    from layer_conformance.tools.sweep import PUBLISHED

    tested = SpecifierSet(adapter.TESTED)
    assert all(Version(v) in tested for v in PUBLISHED)
    minors = [Version(v).release[:2] for v in PUBLISHED]
    assert minors == sorted(set(minors))  # one release per minor, in order
    assert minors[0] == (4, 53) and minors[-1] == (5, 25)
    assert set(minors) >= {(4, m) for m in range(53, 58)} | {(5, m) for m in range(26)}
    assert Version("4.52.4") not in tested and Version("5.26.0") not in tested


def test_a_release_outside_the_tested_range_runs_with_a_note(fake):
    impl = fake("9.0.0", NEW_MASKS, standardizes=True)
    assert "outside the tested range" in impl.details["note"]
    assert "note" not in fake("5.4.0", NEW_MASKS, standardizes=True).details
