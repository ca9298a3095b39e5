"""The suite's pytest markers: how a property says what it judges.

A test carrying one of them is a *property*: its ``impl`` argument is
parametrized with the selected implementations, and its results are filed
under the contract names it judges.  The names are written here once; the
plugin registers them (:data:`MARKERS`) and recognises properties by them,
properties apply them through :func:`layer_conformance.support.checks.requires`
and :func:`~layer_conformance.support.checks.backend_property`.  This module
imports nothing.
"""

from __future__ import annotations

__all__ = ["ATTENTION_BACKEND", "BACKEND_PARTS", "MARKERS", "REQUIRES"]

#: ``requires(*names)``: the contract names a property needs.
REQUIRES = "requires"
#: ``attention_backend(*parts)``: the property takes ``backend``, one of the selected attention backends.
ATTENTION_BACKEND = "attention_backend"
#: What of its backend an ``attention_backend`` property uses.
BACKEND_PARTS = ("function", "builder")

#: Marker name -> its line in ``pytest --markers``.
MARKERS = {
    REQUIRES: "requires(*names): contract names the property needs; missing ones skip it (fail when strict)",
    ATTENTION_BACKEND: "attention_backend(*parts): the property takes `backend`, parametrized with the selected "
    "attention backends (--attention-backend); parts: function and/or builder",
}
