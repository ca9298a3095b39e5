"""Conv1D.forward forgets the bias."""

from layer_conformance.reference import pytorch_utils as _ref


class Conv1D(_ref.Conv1D):
    def forward(self, x):
        return x.reshape(-1, self.nx).matmul(self.weight).reshape(*x.shape[:-1], self.nf)


KILLED_BY = [
    "test_conv1d.py::test_forward_equals_linear_with_transposed_weight",
    "test_conv1d.py::test_matches_reference",
]
