"""apply_chunking_to_forward does not check that all inputs have the same size along chunk_dim."""

import inspect

import torch


def apply_chunking_to_forward(forward_fn, chunk_size, chunk_dim, *input_tensors):
    if len(inspect.signature(forward_fn).parameters) != len(input_tensors):
        raise ValueError("wrong number of arguments")
    if chunk_size == 0:
        return forward_fn(*input_tensors)
    if input_tensors[0].shape[chunk_dim] % chunk_size:
        raise ValueError("not divisible")
    chunks = zip(*(t.split(chunk_size, dim=chunk_dim) for t in input_tensors), strict=False)
    return torch.cat([forward_fn(*c) for c in chunks], dim=chunk_dim)


KILLED_BY = ["test_chunking.py::test_unequal_sizes_is_value_error"]
