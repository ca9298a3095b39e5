"""Assigning on one registry instance writes into the class-wide mapping: local overrides leak everywhere."""

from layer_conformance.reference.registry import Registry


class _Leaky(Registry):
    def __setitem__(self, key, value):
        self._global_mapping[key] = value


class AttentionInterface(_Leaky):
    _global_mapping = {"sdpa": len}


class AttentionMaskInterface(_Leaky):
    _global_mapping = {"sdpa": len, "eager": max}


KILLED_BY = ["test_registries.py::test_registry_state_machine"]
