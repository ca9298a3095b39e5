"""padding_mask_function indexes the 2-D padding mask by query position instead of key position."""


def padding_mask_function(padding_mask):
    return lambda b, h, q, kv: padding_mask[b, q.clamp(max=padding_mask.shape[-1] - 1)].expand_as(q + kv)


KILLED_BY = ["test_masks.py::test_mask_function_truth_table"]
