"""Conv1D.forward flattens with ``view`` and so rejects non-contiguous inputs."""

import torch

from layer_conformance.reference import pytorch_utils as _ref


class Conv1D(_ref.Conv1D):
    def forward(self, x):
        out = torch.addmm(self.bias, x.view(-1, self.nx), self.weight)
        return out.view(*x.shape[:-1], self.nf)


KILLED_BY = ["test_conv1d.py::test_accepts_non_contiguous_input"]
