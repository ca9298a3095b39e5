"""A part of a contract name the implementation lacks, found while a property runs.

Contract names an implementation lacks are found before anything runs (the
``requires`` marker).  Some parts of a name can only be seen at run time: a
parameter of a function (``sdpa_mask(use_vmap)``), a key of a registry
(``ROPE_INIT_FUNCTIONS['proportional']``).  A property that meets one calls
:func:`missing`: the property is reported **missing** with the reason, like a
missing name (a failure under ``--strict-missing`` / ``--strict``), never failed.
An adapter raises it too, for a part the library it adapts lacks everywhere.

An input that only some examples have and the implementation has no
counterpart for (a layout together with a partial rotary factor, an option of a
RoPE type) is :func:`unsupported`: that example is discarded, the others
judged, and the report lists what was left unjudged; a property none of whose
examples could be judged is missing.  This module imports nothing but pytest.
"""

from __future__ import annotations

from typing import Any, NoReturn

import pytest

__all__ = ["Missing", "Unsupported", "missing", "unsupported"]


class Missing(pytest.skip.Exception):  # type: ignore[misc,name-defined]
    """The skip of a property whose implementation lacks ``item`` (a parameter, a registry key)."""

    def __init__(self, item: str, impl_name: str, why: str = "") -> None:
        super().__init__(msg=f"missing: {item} in {impl_name}{f' ({why})' if why else ''}")
        self.item = item


def missing(item: str, impl: Any, why: str = "") -> NoReturn:
    """Stop the running property: ``impl`` lacks ``item`` (written as in the surface check:
    ``sdpa_mask(use_vmap)``, ``ROPE_INIT_FUNCTIONS['proportional']``)."""
    raise Missing(item, getattr(impl, "name", str(impl)), why)


class Unsupported(Exception):
    """An input of one example that the implementation has no counterpart for (a layout, an option of a RoPE
    type): the example is discarded, not failed, and the report lists what was left unjudged; a property all
    of whose examples are discarded is reported missing."""

    def __init__(self, item: str, impl_name: str, why: str = "") -> None:
        super().__init__(f"unsupported: {item} in {impl_name}{f' ({why})' if why else ''}")
        self.item = item
        self.impl_name = impl_name
        self.why = why


def unsupported(item: str, impl: Any, why: str = "") -> NoReturn:
    """Discard the running example: ``impl`` has no counterpart for ``item`` in it (written as in the surface
    check, with what makes it unsupported in ``why``: ``rotary_embedding(interleaved)``, "its interleaved
    models rotate every feature").  Where every example of a property needs it, :func:`missing` says so
    at once."""
    raise Unsupported(item, getattr(impl, "name", str(impl)), why)
