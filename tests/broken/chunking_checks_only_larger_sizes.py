"""apply_chunking_to_forward only rejects inputs larger than the first along chunk_dim, not smaller ones."""

import inspect

import torch


def apply_chunking_to_forward(forward_fn, chunk_size, chunk_dim, *input_tensors):
    if len(inspect.signature(forward_fn).parameters) != len(input_tensors):
        raise ValueError("wrong number of arguments")
    if chunk_size == 0:
        return forward_fn(*input_tensors)
    size = input_tensors[0].shape[chunk_dim]
    if any(t.shape[chunk_dim] > size for t in input_tensors) or size % chunk_size:
        raise ValueError("bad sizes")
    chunks = zip(*(t.split(chunk_size, dim=chunk_dim) for t in input_tensors), strict=False)
    return torch.cat([forward_fn(*c) for c in chunks], dim=chunk_dim)


KILLED_BY = ["test_chunking.py::test_unequal_sizes_is_value_error"]
