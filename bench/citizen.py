"""What installing the suite costs another project's test run.

    python bench/citizen.py [--repeat N] [--output FILE]

A foreign project (the one ``tests/test_citizen.py`` checks for behaviour: its
own Hypothesis test, its own ``--device`` option, its own test order) is
written to a temporary directory and run in the environment where the suite is
installed, serially and with ``-n 2``, once as it is and once with
``-p no:layer_conformance`` (the suite's plugin not loaded at all).  The best of
``--repeat`` runs, taken in turns, is reported for each; the difference is what the installed,
inert plugin adds.  The goal: under 0.3 s.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _suite import ROOT

sys.path.insert(0, str(ROOT))
from tests.test_citizen import FOREIGN  # noqa: E402

CONFTEST = 'def pytest_addoption(parser):\n    parser.addoption("--device")\n'


def timed(args: list[str], cwd: Path) -> float:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "LAYER_CONFORMANCE_IMPL")}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"the foreign project failed ({' '.join(args)}):\n{done.stdout[-3000:]}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    lines = [
        f"Foreign project: 5 tests (one Hypothesis test), best of {args.repeat}; Python {sys.version.split()[0]}",
        "",
        "| run | suite installed (s) | `-p no:layer_conformance` (s) | difference (s) |",
        "|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory(prefix="lc-foreign-") as tmp:
        project = Path(tmp)
        (project / "test_foreign.py").write_text(FOREIGN)
        (project / "conftest.py").write_text(CONFTEST)
        for label, extra in (("serial", []), ("`-n 2`", ["-n", "2"])):
            timed(extra, project)  # warm the file system caches and byte-code
            times: dict[bool, list[float]] = {True: [], False: []}
            for _ in range(args.repeat):  # in turns, so that a busier moment weighs on both alike
                times[True].append(timed(extra, project))
                times[False].append(timed([*extra, "-p", "no:layer_conformance"], project))
            with_plugin, without = min(times[True]), min(times[False])
            lines.append(f"| {label} | {with_plugin:.2f} | {without:.2f} | {with_plugin - without:+.2f} |")
    text = "\n".join(lines)
    print(text)
    if args.output:
        args.output.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
