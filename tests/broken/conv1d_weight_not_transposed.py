"""Conv1D stores its weight like nn.Linear, (nf, nx), instead of (nx, nf)."""

import torch

from layer_conformance.reference import pytorch_utils as _ref


class Conv1D(_ref.Conv1D):
    def __init__(self, nf, nx):
        super().__init__(nf, nx)
        self.weight = torch.nn.Parameter(torch.empty(nf, nx).normal_(0.0, 0.02))

    def forward(self, x):
        return torch.nn.functional.linear(x, self.weight, self.bias)


KILLED_BY = ["test_conv1d.py::test_parameters_shapes_and_state_dict"]
