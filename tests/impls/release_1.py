"""A fake "release 1" for the sweep's self-test: the reference's Conv1D with a bug (``view`` rejects
non-contiguous inputs), nothing else."""

from tests.broken.conv1d_view import Conv1D

__version__ = "1.0"
__all__ = ["Conv1D"]
