"""Hypothesis strategies for the conformance properties.

Small and composable: structure first (sizes, counts), contents last, so that
failures shrink to small readable examples.  Tensors are built from drawn
seeds, never from torch's global RNG.
"""

from .attention import MASK_STYLES, AttentionCase, attention_cases, attention_module
from .chunking import ChunkSpec, chunk_specs, divisors
from .core import (
    FLOAT_DTYPES,
    LOW_PRECISION,
    dtypes,
    generator,
    leading_dims,
    make_tensor,
    seeds,
    shapes,
    sizes,
    tensors,
)
from .masks import (
    GEOMETRY_REGIMES,
    LIST_REGIMES,
    MASK_KINDS,
    SPEC_REGIMES,
    Geometry,
    MaskSpec,
    geometries,
    geometry_regimes,
    grid,
    mask_spec_lists,
    mask_specs,
    padding_kinds,
    padding_rows,
    spec_regimes,
    truth_table,
)
from .pruning import HeadSet, head_sets, index_kinds, prune_indices

__all__ = [
    "GEOMETRY_REGIMES",
    "LIST_REGIMES",
    "SPEC_REGIMES",
    "mask_spec_lists",
    "geometry_regimes",
    "padding_kinds",
    "padding_rows",
    "spec_regimes",
    "MASK_KINDS",
    "MASK_STYLES",
    "AttentionCase",
    "Geometry",
    "MaskSpec",
    "attention_cases",
    "attention_module",
    "geometries",
    "grid",
    "mask_specs",
    "truth_table",
    "FLOAT_DTYPES",
    "LOW_PRECISION",
    "ChunkSpec",
    "HeadSet",
    "chunk_specs",
    "divisors",
    "dtypes",
    "generator",
    "head_sets",
    "index_kinds",
    "leading_dims",
    "make_tensor",
    "prune_indices",
    "seeds",
    "shapes",
    "sizes",
    "tensors",
]
