"""GradientCheckpointingLayer wraps forward without functools.wraps: its name, doc and signature are lost."""

from tests.broken._gc_base import make_layer

GradientCheckpointingLayer = make_layer(wraps=False)

KILLED_BY = ["test_checkpointing.py::test_forward_keeps_its_name_doc_and_signature"]
