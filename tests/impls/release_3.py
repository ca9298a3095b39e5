"""A fake "release 3" for the sweep's self-tests: release 2 plus apply_chunking_to_forward (the reference's)."""

from layer_conformance.reference import Conv1D, apply_chunking_to_forward

__version__ = "3.0"
__all__ = ["Conv1D", "apply_chunking_to_forward"]
