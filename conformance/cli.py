"""``layer-conformance``: run the installed properties from any directory.

``layer-conformance [pytest options]`` is ``pytest --pyargs layer_conformance
[pytest options]``, so ``layer-conformance --impl mypackage.layers -n 2`` works
without a checkout of this repository.
"""

from __future__ import annotations

import sys

import pytest


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    return int(pytest.main(["--pyargs", "layer_conformance", *args]))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
