"""A fake "release 4" for the sweep's self-tests: release 3 with a regression in apply_chunking_to_forward (it
never chunks)."""

from layer_conformance.reference import Conv1D
from tests.broken.chunking_never_chunks import apply_chunking_to_forward

__version__ = "4.0"
__all__ = ["Conv1D", "apply_chunking_to_forward"]
