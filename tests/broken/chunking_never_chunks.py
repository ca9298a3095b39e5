"""apply_chunking_to_forward checks its arguments but always calls forward_fn once on the whole tensors."""

import inspect


def apply_chunking_to_forward(forward_fn, chunk_size, chunk_dim, *input_tensors):
    if len(inspect.signature(forward_fn).parameters) != len(input_tensors):
        raise ValueError("wrong number of arguments")
    if chunk_size:
        size = input_tensors[0].shape[chunk_dim]
        if any(t.shape[chunk_dim] != size for t in input_tensors) or size % chunk_size:
            raise ValueError("bad sizes")
    return forward_fn(*input_tensors)


KILLED_BY = ["test_chunking.py::test_forward_fn_called_once_per_chunk_in_order"]
