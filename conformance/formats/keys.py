"""How a test of the suite is named in xfail lines, reports and sweeps: one definition of each key.

From a pytest node id (``conformance/properties/test_masks.py::test_truth_table[transformers-causal]``):

* :func:`test_key` -- ``test_masks.py::test_truth_table[transformers-causal]``: the file's name and the
  test name with its parameter ids; what xfail patterns match (:mod:`.xfails`);
* :func:`result_key` -- ``test_masks.py::test_truth_table[causal]``: the same without the
  implementation's id; what a report files a result under (``key``), so that the results of two
  implementations, or of two releases, compare by key;
* :func:`function_key` -- ``test_masks.py::test_truth_table``: the property itself, whatever its
  parameters; what the surface declarations (:data:`layer_conformance.surface.COVERED`) and the
  self-tests' ``KILLED_BY`` lists name.

The file's name alone (not its directory) keeps keys stable when the suite is run from a checkout,
from an installed package or from another directory.  This module imports nothing but the standard
library.
"""

from __future__ import annotations

import re

__all__ = ["function_key", "result_key", "strip_impl_id", "test_key", "with_file"]

_PARAMETERS = re.compile(r"\[.*\]$")


def with_file(nodeid: str, path: str) -> str:
    """A node id with the file it was collected from as its path: pytest leaves the file out of the node ids
    of a module named with ``--pyargs`` from another directory (``::test_x[...]``)."""
    return f"{path.replace(chr(92), '/').rsplit('/', 1)[-1]}::{nodeid.partition('::')[2]}"


def test_key(nodeid: str) -> str:
    """``<file>::<test name with parameter ids>`` of a node id."""
    path, _, name = nodeid.partition("::")
    return f"{path.replace(chr(92), '/').rsplit('/', 1)[-1]}::{name}"


def function_key(nodeid: str) -> str:
    """``<file>::<test function>`` of a node id (parameters dropped)."""
    return _PARAMETERS.sub("", test_key(nodeid))


def strip_impl_id(name: str, impl_name: str) -> str:
    """A test name with the implementation's id taken out of its parameters."""
    for old, new in ((f"[{impl_name}]", ""), (f"[{impl_name}-", "["), (f"-{impl_name}]", "]"), (f"-{impl_name}-", "-")):
        if old in name:
            return name.replace(old, new, 1)
    return name


def result_key(nodeid: str, impl_name: str) -> str:
    """``<file>::<test name>`` with the implementation's id taken out of the parameters."""
    file, _, name = test_key(nodeid).partition("::")
    return f"{file}::{strip_impl_id(name, impl_name)}"
