"""packed_sequence_mask_function reads every row's sequences from the first row."""


def packed_sequence_mask_function(packed_sequence_mask):
    def inner(batch_idx, head_idx, q_idx, kv_idx):
        return packed_sequence_mask[0, q_idx] == packed_sequence_mask[0, kv_idx]

    return inner


KILLED_BY = ["test_model_masks.py::test_packed_sequence_mask_function_attends_within_a_sequence"]
