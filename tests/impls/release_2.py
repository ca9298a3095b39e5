"""A fake "release 2" for the sweep's self-test: release 1 with its Conv1D bug fixed (the reference's)."""

from layer_conformance.reference import Conv1D

__version__ = "2.0"
__all__ = ["Conv1D"]
