"""Conv1D saves its weight transposed in the state_dict, so a saved layer does not load back."""

from layer_conformance.reference import pytorch_utils as _ref


class Conv1D(_ref.Conv1D):
    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        destination[prefix + "weight"] = destination[prefix + "weight"].T.contiguous()


KILLED_BY = ["test_conv1d.py::test_load_state_dict_round_trip"]
