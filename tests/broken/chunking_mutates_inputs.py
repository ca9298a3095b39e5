"""apply_chunking_to_forward returns the right result but then scales its first input in place."""

from layer_conformance.reference import pytorch_utils as _ref


def apply_chunking_to_forward(forward_fn, chunk_size, chunk_dim, *input_tensors):
    out = _ref.apply_chunking_to_forward(forward_fn, chunk_size, chunk_dim, *input_tensors)
    input_tensors[0].data.mul_(2.0)
    return out


KILLED_BY = ["test_chunking.py::test_inputs_not_mutated"]
