"""Deleting a key with no local override removes the global entry instead of raising KeyError."""

from layer_conformance.reference.registry import Registry


class _Deleting(Registry):
    def __delitem__(self, key):
        if key in self._local_mapping:
            del self._local_mapping[key]
        else:
            del self._global_mapping[key]


class AttentionInterface(_Deleting):
    _global_mapping = {"sdpa": len}


class AttentionMaskInterface(_Deleting):
    _global_mapping = {"sdpa": len, "eager": max}


KILLED_BY = ["test_registries.py::test_registry_state_machine"]
