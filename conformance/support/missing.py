"""A part of a contract name the implementation lacks, found while a property runs.

Contract names an implementation lacks are found before anything runs (the
``requires`` marker).  Some parts of a name can only be seen at run time: a
parameter of a function (``sdpa_mask(use_vmap)``), a key of a registry
(``ROPE_INIT_FUNCTIONS['proportional']``).  A property that meets one calls
:func:`missing`: the property is reported **missing** with the reason, like a
missing name (a failure under ``--strict-missing`` / ``--strict``), never failed.
This module imports nothing but pytest.
"""

from __future__ import annotations

from typing import Any, NoReturn

import pytest

__all__ = ["Missing", "missing"]


class Missing(pytest.skip.Exception):  # type: ignore[misc,name-defined]
    """The skip of a property whose implementation lacks ``item`` (a parameter, a registry key)."""

    def __init__(self, item: str, impl_name: str, why: str = "") -> None:
        super().__init__(msg=f"missing: {item} in {impl_name}{f' ({why})' if why else ''}")
        self.item = item


def missing(item: str, impl: Any, why: str = "") -> NoReturn:
    """Stop the running property: ``impl`` lacks ``item`` (written as in the surface check:
    ``sdpa_mask(use_vmap)``, ``ROPE_INIT_FUNCTIONS['proportional']``)."""
    raise Missing(item, getattr(impl, "name", str(impl)), why)
