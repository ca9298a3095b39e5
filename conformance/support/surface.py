"""Surface a property exercises that only the run knows: entries chosen at run time.

The properties' surface is declared in :data:`layer_conformance.surface.COVERED`.
A property that runs a registry entry chosen at run time (an attention backend a
run selects, say ``AttentionInterface['flex_attention']``) reports it with
:func:`exercised`; the plugin takes the reports made during each test into that
test's record (:mod:`layer_conformance.plugin.records`), so the item counts as
covered for that implementation in the terminal summary and ``report.json``,
the same way serially and from pytest-xdist workers.
"""

from __future__ import annotations

from typing import Any

__all__ = ["drain", "exercised"]

_PENDING: list[tuple[str, str]] = []


def exercised(impl: Any, item: str) -> None:
    """Record that the running property exercised surface ``item`` (written as in
    :data:`layer_conformance.surface.COVERED`, e.g. ``"AttentionInterface['flex_attention']"``) of
    implementation ``impl`` (an implementation or its name)."""
    from layer_conformance.surface import parse

    parse(item)  # a malformed item is the property's error, raised where it is made
    entry = (getattr(impl, "name", impl), item)
    if entry not in _PENDING:
        _PENDING.append(entry)


def drain() -> list[tuple[str, str]]:
    """The items reported since the last call, in order, each once; the buffer is emptied."""
    pending = list(_PENDING)
    _PENDING.clear()
    return pending
