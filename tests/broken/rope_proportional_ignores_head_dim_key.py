"""Proportional RoPE accepts ``head_dim_key`` but always reads ``config.head_dim``."""

from layer_conformance.reference import rope as _ref

dynamic_rope_update = _ref.dynamic_rope_update


def _proportional(config, device=None, seq_len=None, layer_type=None, head_dim_key="head_dim"):
    return _ref._proportional(config, device, seq_len, layer_type)


ROPE_INIT_FUNCTIONS = {**_ref.ROPE_INIT_FUNCTIONS, "proportional": _proportional}

KILLED_BY = ["test_rope.py::test_proportional_reads_the_head_dim_named_by_head_dim_key"]
