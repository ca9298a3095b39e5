"""Base of the broken mask entry points: the reference's registry and entry points, for a module to replace
one of them (it exposes only the names around its bug: the entry points and ``AttentionMaskInterface``)."""

from layer_conformance.reference import entry_points as ref
from layer_conformance.reference.masks import AttentionMaskInterface

__all__ = ["AttentionMaskInterface", "ref"]
