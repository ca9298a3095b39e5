"""apply_chunking_to_forward does not compare forward_fn's parameter count with the inputs."""

import torch


def apply_chunking_to_forward(forward_fn, chunk_size, chunk_dim, *input_tensors):
    if chunk_size == 0:
        return forward_fn(*input_tensors)
    size = input_tensors[0].shape[chunk_dim]
    if any(t.shape[chunk_dim] != size for t in input_tensors) or size % chunk_size:
        raise ValueError("bad sizes")
    chunks = zip(*(t.split(chunk_size, dim=chunk_dim) for t in input_tensors), strict=False)
    return torch.cat([forward_fn(*c) for c in chunks], dim=chunk_dim)


KILLED_BY = ["test_chunking.py::test_wrong_number_of_arguments_is_value_error"]
