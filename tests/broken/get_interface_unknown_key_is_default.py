"""AttentionInterface.get_interface returns the model's default for a key nobody registered, instead of a
KeyError: a misspelt ``attn_implementation`` silently runs eager attention."""

from layer_conformance.reference import attention as _ref


class AttentionInterface(_ref.AttentionInterface):
    def get_interface(self, attn_implementation, default):
        return self.get(attn_implementation, default)


KILLED_BY = ["test_registries.py::test_get_interface_follows_the_registry"]
