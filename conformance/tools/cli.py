"""``layer-conformance``: run the installed properties from any directory.

``layer-conformance [pytest options]`` is ``pytest --pyargs layer_conformance
[pytest options]``, so ``layer-conformance --impl mypackage.layers -n 2`` works
without a checkout of this repository.

``layer-conformance sweep [releases] [options] [-- pytest options]`` runs the
suite against a list of transformers releases, each in its own environment,
and says in which release each property changed (:mod:`layer_conformance.tools.sweep`).

``layer-conformance matrix REPORT.json ...`` writes the cross-version matrix of
saved reports (:mod:`layer_conformance.tools.matrix`).
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["sweep"]:
        from .sweep import main as sweep

        return sweep(args[1:])
    if args[:1] == ["matrix"]:
        from .matrix import main as matrix

        return matrix(args[1:])
    import pytest

    return int(pytest.main(["--pyargs", "layer_conformance", *args]))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
