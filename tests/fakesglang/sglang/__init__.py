"""A small library shaped like SGLang's rotary embeddings, for the suite's self-tests (``tests/test_libraries.py``,
``tests/test_seeded_libraries.py``): the names, signatures and layouts the SGLang adapter
(``layer_conformance.adapters.sglang``) reaches -- ``sglang.srt.layers.rotary_embedding.get_rope`` with its memo
``factory._ROPE_DICT``, modules with a ``cos_sin_cache`` called on flattened tokens, and
``sglang.srt.utils.hf_transformers.common.get_context_length`` -- with the default and linear types only.
Written for the tests from SGLang's documented call forms; no SGLang code."""

__version__ = "0.0.1+fake"
