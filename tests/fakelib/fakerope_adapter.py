"""The adapter of fakerope (``tests/fakelib/fakerope``), written as an adapter of another library is: it judges
fakerope through what its public module computes, declares the rule fakerope documents doing differently, says
why each contract name it lacks is missing, and leaves unjudged the inputs fakerope has no counterpart for.

Registered by ``fakerope-1.0.dist-info`` beside it (entry point ``fakerope`` of group
``layer_conformance.adapters``): the directory on the path makes ``--impl fakerope`` and ``layer-conformance
sweep fakerope`` work as they do for the adapters the suite ships."""

from __future__ import annotations

import importlib
import types
from typing import Any

from layer_conformance.adapters import common
from layer_conformance.contract import NAMES
from layer_conformance.implementation import Adapter, Difference, Implementation, ImplError, Recipe

TYPES = ("default", "linear")

DIFFERENCES = (
    Difference(
        pattern="test_rope.py::test_rotation_matches_the_float64_definition[*]",
        rule="positions at or past max_position take the cache's last row ('positions past the context the model "
        "was built for are clamped to it')",
        source="fakerope/__init__.py: RotaryEmbedding.forward, positions.clamp(max=self.max_position - 1)",
        failure="AssertionError: rotated (query|key)",
    ),
)

MISSING = {name: "not in fakerope" for name in NAMES if name not in ("rotary_embedding", "ROPE_INIT_FUNCTIONS")}
MISSING["dynamic_rope_update"] = "fakerope computes its cache once, when the module is built"


def _rotary_embedding(fakerope: Any) -> Any:
    def rotary_embedding(config, query, key, position_ids, interleaved=False):
        from layer_conformance.missing import unsupported

        if interleaved:
            unsupported("rotary_embedding(interleaved)", "fakerope", "it has the half layout only")
        if config.partial_rotary_factor != 1.0:
            unsupported("rotary_embedding", "fakerope", "a partial rotary factor: it rotates every feature")
        scaling = (
            {"scaling_type": "linear", "scaling_factor": config.param("factor")} if config.rope_type == "linear" else {}
        )
        module = fakerope.RotaryEmbedding(config.head_dim, config.max_position_embeddings, config.rope_theta, **scaling)
        return module(position_ids, query, key)

    return rotary_embedding


def load(name: str = "fakerope") -> Implementation:
    try:
        fakerope = importlib.import_module("fakerope")
    except ImportError as exc:
        raise ImplError(f"--impl {name}: fakerope is not importable here ({exc})") from None
    rotation = _rotary_embedding(fakerope)
    namespace = types.SimpleNamespace(
        rotary_embedding=rotation,
        ROPE_INIT_FUNCTIONS=common.init_functions(TYPES, rotation, lambda c: c.head_dim, lambda c: c.head_dim),
        rope_config=common.flat_config,
        DESIGN_DIFFERENCES=DIFFERENCES,
        MISSING_REASONS=MISSING,
        __version__=fakerope.__version__,
    )
    return Implementation(name=name, obj=namespace, origin=fakerope.__file__, version=fakerope.__version__)


ADAPTER = Adapter(
    load, requires=("fakerope",), install="put tests/fakelib on the path", recipe=Recipe(("fakerope==1.0",))
)
