"""AttentionInterface.get_interface looks a key up in the registered entries only: a model whose attention
module holds a local override (``interface[key] = fn``) still gets the registered function."""

from layer_conformance.reference import attention as _ref


class AttentionInterface(_ref.AttentionInterface):
    def get_interface(self, attn_implementation, default):
        if attn_implementation is not None and attn_implementation != "eager" and attn_implementation not in self:
            raise KeyError(attn_implementation)
        return self._global_mapping.get(attn_implementation, default)


KILLED_BY = ["test_registries.py::test_get_interface_follows_the_registry"]
