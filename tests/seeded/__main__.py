"""``python -m tests.seeded LIBRARY...``: the seeded-bug self-tests (``tests/test_seeded_libraries.py``) of each
library in the environment the release sweep made for it (``layer-conformance sweep LIBRARY``; the same
``--envs``, or ``$LAYER_CONFORMANCE_ENVS``), from this checkout.  Exit status 0 when every library's seeded
bugs are found there; a library without an environment, or whose cases all skip, is a failure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from layer_conformance.tools import sweep

ROOT = Path(__file__).resolve().parent.parent.parent


def main(argv: list[str]) -> int:
    args, _ = sweep.parse(argv)
    envs = sweep.Environments(args)
    failed = []
    for library in args.releases:
        python = sweep._env_python(envs.path(library))
        if not python.exists():
            print(f"{library}: no environment at {envs.path(library)}: run layer-conformance sweep {library} first")
            failed.append(library)
            continue
        command = [
            str(python),
            "-m",
            "pytest",
            "tests/test_seeded_libraries.py",
            "-k",
            library,
            "-p",
            "no:cacheprovider",
        ]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        done = subprocess.run([*command, "-q", "-rs"], cwd=ROOT, env=env, capture_output=True, text=True)
        last = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
        print(f"{library} ({python}): {last}")
        if done.returncode != 0 or " passed" not in last:
            print(done.stdout[-3000:] + done.stderr[-3000:])
            failed.append(library)
    print(f"seeded bugs: {len(args.releases) - len(failed)} of {len(args.releases)} libraries found them all")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
