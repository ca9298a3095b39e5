"""What the properties import, beside the strategies and the shared model.

============== ===================================================================
module         what
============== ===================================================================
checks         the ``requires`` / ``backend_property`` markers; assertions whose
               failure says what was seen, what was expected and the call
tolerances     the measured tolerance table, per kind, dtype and device
state          global state saved and restored around every example
               (``example_guard``, registry snapshots)
masks          building and reading masks, builder calls, mask regimes
attention      calling attention backends the way models do
rope           the float64 RoPE formula, the rotary module, configs per impl
checkpointing  the layers the checkpointing properties wrap
============== ===================================================================

Properties import these and :mod:`layer_conformance.strategies`; nothing here
imports the plugin, the formats or the tools.
"""
