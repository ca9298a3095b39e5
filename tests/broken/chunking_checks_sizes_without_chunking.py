"""apply_chunking_to_forward checks that the inputs agree along ``chunk_dim`` even when ``chunk_size`` is 0
(no chunking): inputs of different sizes there are rejected instead of reaching forward_fn whole
(transformers before 4.11 asserted first; #13598 moved the check into the chunking branch)."""

import inspect

import torch


def apply_chunking_to_forward(forward_fn, chunk_size, chunk_dim, *input_tensors):
    if not input_tensors:
        raise ValueError("no input tensors")
    size = input_tensors[0].shape[chunk_dim]
    if any(t.shape[chunk_dim] != size for t in input_tensors):
        raise ValueError("All input tensors have to be of the same size along chunk_dim")
    if len(inspect.signature(forward_fn).parameters) != len(input_tensors):
        raise ValueError("wrong number of arguments")
    if chunk_size == 0:
        return forward_fn(*input_tensors)
    if size % chunk_size:
        raise ValueError("not a multiple of chunk_size")
    chunks = zip(*(t.split(chunk_size, dim=chunk_dim) for t in input_tensors), strict=True)
    return torch.cat([forward_fn(*c) for c in chunks], dim=chunk_dim)


KILLED_BY = ["test_chunking.py::test_without_chunking_inputs_of_any_sizes_reach_forward_fn_whole"]
