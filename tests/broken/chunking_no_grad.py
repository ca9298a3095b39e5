"""apply_chunking_to_forward runs the chunks under torch.no_grad(): values right, no gradients."""

import torch

from layer_conformance.reference import pytorch_utils as _ref


def apply_chunking_to_forward(forward_fn, chunk_size, chunk_dim, *input_tensors):
    with torch.no_grad():
        return _ref.apply_chunking_to_forward(forward_fn, chunk_size, chunk_dim, *input_tensors)


KILLED_BY = ["test_chunking.py::test_gradients_equal_unchunked"]
