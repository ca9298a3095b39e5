"""apply_chunking_to_forward requires every input to have the first one's whole shape, not only its size
along ``chunk_dim`` (transformers 3.4: ``assert all(input_tensor.shape == tensor_shape ...)``; issue #8349,
fixed by #8391): inputs that differ outside the chunk dim are rejected."""

import inspect

import torch


def apply_chunking_to_forward(forward_fn, chunk_size, chunk_dim, *input_tensors):
    if not input_tensors:
        raise ValueError("no input tensors")
    if len(inspect.signature(forward_fn).parameters) != len(input_tensors):
        raise ValueError("wrong number of arguments")
    if any(t.shape != input_tensors[0].shape for t in input_tensors):
        raise ValueError("All input tensors have to be of the same shape")
    if chunk_size == 0:
        return forward_fn(*input_tensors)
    if input_tensors[0].shape[chunk_dim] % chunk_size:
        raise ValueError("not a multiple of chunk_size")
    chunks = zip(*(t.split(chunk_size, dim=chunk_dim) for t in input_tensors), strict=True)
    return torch.cat([forward_fn(*c) for c in chunks], dim=chunk_dim)


KILLED_BY = [
    "test_chunking.py::test_chunked_equals_unchunked",
    "test_chunking.py::test_gradients_equal_unchunked",
    "test_chunking.py::test_forward_fn_called_once_per_chunk_in_order",
    "test_chunking.py::test_matches_reference",
]
