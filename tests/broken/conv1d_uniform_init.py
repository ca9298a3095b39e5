"""Conv1D initialises its weight from a uniform law of std 0.02 instead of N(0, 0.02)."""

import torch

from layer_conformance.reference import pytorch_utils as _ref


class Conv1D(_ref.Conv1D):
    def __init__(self, nf, nx):
        super().__init__(nf, nx)
        bound = 0.02 * 3**0.5
        torch.nn.init.uniform_(self.weight, -bound, bound)


KILLED_BY = ["test_conv1d.py::test_weight_init_is_normal_with_std_0_02"]
