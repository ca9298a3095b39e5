"""causal_mask_function returns integers (0 / 1) on index tensors instead of booleans."""


def causal_mask_function(batch_idx, head_idx, q_idx, kv_idx):
    return (kv_idx <= q_idx).int()


KILLED_BY = ["test_masks.py::test_mask_function_truth_table"]
