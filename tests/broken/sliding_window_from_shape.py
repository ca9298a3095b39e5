"""sliding_window_overlay builds its band from the shapes of the index tensors, not their values."""

import torch


def sliding_window_overlay(sliding_window):
    def inner(b, h, q, kv):
        q_len, kv_len = q.shape[-2], kv.shape[-1]  # fails on 0-d indices; ignores offsets
        ones = torch.ones(q_len, kv_len, dtype=torch.bool, device=q.device)
        return ones.tril(diagonal=kv_len - q_len).triu(diagonal=kv_len - q_len - sliding_window + 1)

    return inner


KILLED_BY = ["test_masks.py::test_point_evaluation_agrees_with_broadcast_evaluation"]
