"""The properties: one module per group of the contract, each property a documented behaviour.

``test_conv1d``, ``test_chunking``, ``test_pruning``, ``test_checkpointing``,
``test_attention``, ``test_masks``, ``test_registries`` and ``test_rope``: every
property takes ``impl`` (and, for the attention backends, ``backend``), is marked
with the contract names it judges (:func:`layer_conformance.support.checks.requires`)
and states in its docstring the documented behaviour it checks, every sentence of
which is asserted.  A property is written once and runs for every selected
implementation; it imports the shared model, :mod:`layer_conformance.support`,
:mod:`layer_conformance.strategies` and the reference, never the plugin.
"""
