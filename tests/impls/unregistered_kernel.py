"""A library with one attention function and no registry (as mlx-lm's models call one function): the kernel of
``boolean_kernel`` given through the ``ATTENTION_FUNCTIONS`` hook, declared to read booleans with no mask builder
of the contract's form."""

from __future__ import annotations

from tests.impls.boolean_kernel import boolean_kernel

ATTENTION_FUNCTIONS = {"mine": boolean_kernel}
ATTENTION_BACKENDS = {"mine": {"mask": "boolean", "additive": False, "none_mask": "causal", "builder": "mine"}}
