"""A Conv1D whose forward aborts the interpreter on non-contiguous input (a crashing kernel): under
``-n 2`` only ``test_accepts_non_contiguous_input`` dies with its worker; the rest of Conv1D passes."""

import os

from layer_conformance.reference import Conv1D as _Conv1D


class Conv1D(_Conv1D):
    def forward(self, x):
        if not x.is_contiguous():
            os.abort()
        return super().forward(x)
