"""find_packed_sequence_indices starts a new sequence only where the position falls back to 0: a sequence
packed after another starting at a later position (or a repeated position) is merged into the previous one."""

import torch


def find_packed_sequence_indices(position_ids):
    restarts = (position_ids[:, 1:] == 0).long()
    indices = torch.cat((torch.zeros_like(position_ids[:, :1]), restarts.cumsum(-1)), dim=-1)
    return indices if bool(restarts.any()) else None


KILLED_BY = ["test_model_masks.py::test_packed_sequences_are_numbered_from_the_position_ids"]
