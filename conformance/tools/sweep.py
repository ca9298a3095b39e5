"""``layer-conformance sweep``: the suite against a list of releases, and the release where each property changed.

::

    layer-conformance sweep                          # every release of the published matrix
    layer-conformance sweep 4.57.6 5.24.0            # two releases (exact versions)
    layer-conformance sweep 5.12 5.13                # the latest patch of each minor release
    layer-conformance sweep 5.12 5.13 -- --attention-backend all    # pytest arguments after --
    layer-conformance sweep --impl mypkg.old --impl mypkg.new       # implementations of this environment

For each transformers release it makes (or reuses) an environment of its own
with uv -- torch pinned to the version installed here, that transformers
release, the suite itself (the one running the sweep), pytest, pytest-xdist and
Hypothesis -- and runs ``pytest --pyargs layer_conformance --impl transformers``
there, derandomized (Hypothesis profile ``ci``: the same examples in every
release) unless the pytest arguments name a profile.  Each run writes its
report to ``OUT/<release>/`` (``report.json``, ``report.md``, repro scripts,
``pytest.log``); a progress line per release says how long the environment and
the suite took and what the suite found.  With ``--impl`` the "releases" are
implementations importable here, run in this environment (nothing is
installed: the suite's self-test sweeps two implementations this way).

Then, from the reports (:mod:`layer_conformance.tools.history`):

* every property whose outcome changes between consecutive releases of the
  list, with the release where it changed
  (``test_rope.py::test_dynamic_ntk_grows_and_resets: passed 4.53.3-4.57.6,
  xfailed 5.0.0-5.12.1, passed from 5.13.1``);
* every line of the implementation's xfails files against the releases: its
  version range must hold exactly the releases where its tests fail with its
  failure (``--update-xfails FILE`` writes the ranges the sweep found);
* ``OUT/sweep.json`` (``layer-conformance-sweep/1``) and ``OUT/matrix.md``, the
  cross-version matrix, with its picture ``OUT/sweep.svg`` (the properties that
  change or do not pass, one column per release) and its page ``OUT/sweep.html``
  (every property x release, filters, the recorded bugs with their ranges:
  :mod:`layer_conformance.formats.html`); ``--markdown PATH`` writes the matrix
  elsewhere too, its picture and page beside it (``PATH`` with ``.svg`` and
  ``.html``), ``--summary PATH`` the JSON.

``--bisect`` runs the first and last release, then only the releases needed to
pin each change between two consecutive releases of the list (it assumes that
an outcome equal at both ends of an interval did not change within it).

The sweep exits 1 when a release could not run, when any run has a failed,
error, crashed or stale result, or when an xfail range disagrees with the
releases; 0 otherwise.

Installer options: uv reads its own environment variables (``UV_FIND_LINKS``,
``UV_EXTRA_INDEX_URL``, ``UV_INDEX_URL``, ``UV_OVERRIDE``, ...); ``--pip-arg``
passes one more argument to every ``uv pip install`` (repeat it).  For the CPU
build of torch on Linux, ``UV_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu``.
This module imports no torch.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path

from ..formats.report import ReportError, load_report
from ..formats.xfails import XfailEntry, XfailFileError, bundled_entries, read_xfails
from ..implementation import ImplError, Recipe
from ..impls import adapter, adapter_names
from . import history
from .history import Run
from .jobs import installed_version, safe_label

__all__ = ["PUBLISHED", "SweepError", "conclude", "main"]

#: The releases of the published matrix (docs/cross-version-matrix.md): the latest patch of every minor
#: release from 4.53 (the first with ``transformers.masking_utils``) to 5.25.
PUBLISHED = (
    "4.53.3",
    "4.54.1",
    "4.55.4",
    "4.56.2",
    "4.57.6",
    "5.0.0",
    "5.1.0",
    "5.2.0",
    "5.3.0",
    "5.4.0",
    "5.5.4",
    "5.6.2",
    "5.7.0",
    "5.8.1",
    "5.9.0",
    "5.10.4",
    "5.11.0",
    "5.12.1",
    "5.13.1",
    "5.14.1",
    "5.15.1",
    "5.16.1",
    "5.17.0",
    "5.18.0",
    "5.19.0",
    "5.20.2",
    "5.21.1",
    "5.22.2",
    "5.23.0",
    "5.24.0",
    "5.25.0",
)

#: What every release environment gets besides torch, transformers and the suite.
BASE_REQUIREMENTS = ("hypothesis", "pytest", "pytest-xdist", "numpy", "packaging")

_RELEASE = re.compile(r"^\d+\.\d+(\.\d+)?([a-z]+\d*)?(\.post\d+)?(\.dev\d+)?$")


class SweepError(Exception):
    """A usage error of the sweep; the message is one line."""


# --------------------------------------------------------------------------- arguments


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="layer-conformance sweep",
        description="Run the suite against a list of transformers releases (each in its own environment) and say "
        "in which release each property changed.",
        epilog="Arguments after -- go to pytest in every run (e.g. -- --attention-backend all).",
    )
    parser.add_argument(
        "releases",
        nargs="*",
        metavar="TARGET",
        help="in order: transformers releases (X.Y.Z, or X.Y for the latest patch of a minor release) and "
        "libraries with an adapter (vllm, mlx_lm, torchtitan, megatron, torchtune), each in its own environment "
        "(default: the published matrix of transformers releases, 4.53.3 to 5.25.0)",
    )
    parser.add_argument(
        "--impl",
        action="append",
        default=[],
        metavar="SPEC",
        help="sweep implementations of this environment instead of releases, in order (repeat)",
    )
    parser.add_argument("--out", default="layer-conformance-sweep", help="where reports go (default: %(default)s)")
    parser.add_argument(
        "--envs",
        default=None,
        help="where the targets' environments are kept (default: $LAYER_CONFORMANCE_ENVS, else $XDG_CACHE_HOME or "
        "~/.cache, layer-conformance/envs)",
    )
    parser.add_argument("--python", default=None, help="Python version of the environments (default: this one's)")
    parser.add_argument("--torch", default=None, help="torch version to pin (default: the one installed here)")
    parser.add_argument(
        "--suite",
        default=None,
        help="what to install as the suite (default: the distribution running the sweep: its checkout, "
        "editable, or its version)",
    )
    parser.add_argument(
        "--pip-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="one more argument for every `uv pip install`, e.g. --pip-arg=--find-links=DIR (repeat)",
    )
    parser.add_argument("--uv", default=None, help="the uv executable (default: uv on PATH, or python -m uv)")
    parser.add_argument("-n", "--workers", default="2", help="pytest-xdist workers per run (0: serial; default 2)")
    parser.add_argument("--bisect", action="store_true", help="run only the releases needed to pin each change")
    parser.add_argument("--reuse", action="store_true", help="reuse a release's report when OUT/<release>/ has one")
    parser.add_argument(
        "--markdown",
        default=None,
        metavar="PATH",
        help="also write the matrix to PATH, its picture and page beside it (.svg, .html)",
    )
    parser.add_argument("--summary", default=None, metavar="PATH", help="also write sweep.json to PATH")
    parser.add_argument(
        "--parity",
        default=None,
        metavar="PATH",
        help="also write the parity table of the library targets (docs/ecosystem.md) to PATH, its picture beside it "
        "(.svg)",
    )
    parser.add_argument(
        "--update-xfails",
        default=None,
        metavar="FILE",
        help="write the ranges the sweep found into the version fields of FILE's disagreeing lines",
    )
    jobs = parser.add_argument_group("the sweep as jobs of a CI matrix (see layer_conformance.tools.jobs)")
    jobs.add_argument("--plan", action="store_true", help="print the sweep's jobs as a JSON list and stop")
    jobs.add_argument("--job", default=None, metavar="ID", help="run the targets of this job of the plan only")
    jobs.add_argument("--shards", type=int, default=None, metavar="N", help="plan N jobs balanced by --times")
    jobs.add_argument("--shard", default=None, metavar="I/N", help="run job I of N (--shards N --job shard-I-of-N)")
    jobs.add_argument(
        "--times", default=None, metavar="SWEEP_JSON", help="a recorded sweep.json whose times balance the shards"
    )
    return parser


def parse(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    argv = list(argv)
    pytest_args: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, pytest_args = argv[:cut], argv[cut + 1 :]
    args = _parser().parse_args(argv)
    if args.impl and args.releases:
        raise SweepError("give releases or --impl implementations, not both")
    #: the library targets' environment recipes (a target not in it is a transformers release)
    args.recipes = {}
    for target in args.releases:
        if _RELEASE.match(target):
            continue
        recipe = _recipe(target)
        if recipe is None:
            libraries = ", ".join(n for n in adapter_names() if _recipe(n) is not None)
            raise SweepError(
                f"{target!r} is neither a release (X.Y.Z, or X.Y for the latest patch) nor a library the sweep "
                f"installs ({libraries})"
            )
        args.recipes[target] = recipe
    if not args.workers.isdigit():
        raise SweepError(f"-n {args.workers}: expected a number of workers")
    if args.plan and (args.job or args.shard):
        raise SweepError("--plan prints the jobs; --job / --shard runs one of them: give one")
    if args.job and args.shard:
        raise SweepError("give --job ID or --shard I/N, not both")
    if (args.job or args.shard) and (args.bisect or args.reuse):
        raise SweepError("a job runs its targets as planned: no --bisect or --reuse")
    return args, pytest_args


# --------------------------------------------------------------------------- environments


def _uv(explicit: str | None) -> list[str]:
    if explicit:
        return [explicit]
    found = shutil.which("uv")
    if found:
        return [found]
    try:
        import uv  # type: ignore[import-not-found]  # noqa: F401

        return [sys.executable, "-m", "uv"]
    except ImportError:
        raise SweepError("needs uv to make the release environments (pip install uv, or --uv PATH)") from None


def suite_requirement() -> list[str]:
    """How to install the suite that runs the sweep: its checkout (editable when it is), the file it came
    from, or its version."""
    try:
        dist = metadata.distribution("layer-conformance")
    except metadata.PackageNotFoundError:
        raise SweepError("layer-conformance is not installed as a distribution; pass --suite SPEC") from None
    text = dist.read_text("direct_url.json")
    if text:
        info = json.loads(text)
        url = str(info.get("url", ""))
        if url.startswith("file://"):
            from urllib.parse import unquote, urlparse

            path = unquote(urlparse(url).path)
            if (info.get("dir_info") or {}).get("editable"):
                return ["-e", path]
            return [path]
        return [url]
    return [f"layer-conformance=={dist.version}"]


def disk_size(path: Path) -> int:
    """Bytes of the files under ``path`` (links not followed)."""
    total, stack = 0, [path]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                stack.append(Path(entry.path))
            elif entry.is_file(follow_symlinks=False):
                total += entry.stat(follow_symlinks=False).st_size
    return total


def _env_python(env: Path) -> Path:
    return env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _default_envs() -> Path:
    if os.environ.get("LAYER_CONFORMANCE_ENVS"):
        return Path(os.environ["LAYER_CONFORMANCE_ENVS"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "layer-conformance" / "envs"


def _recipe(target: str) -> Recipe | None:
    """The environment recipe of the adapter named ``target``, or None (no such adapter, or none the sweep can
    install)."""
    try:
        found = adapter(target)
    except ImplError:
        return None
    return found.recipe if found is not None else None


class Environments:
    """One virtual environment per target -- a transformers release, or a library with the recipe its adapter
    gives -- made with uv and kept for the next sweep.  pip's own ``PIP_FIND_LINKS`` reach uv too (as
    ``--find-links``, unless ``UV_FIND_LINKS`` is set): a machine whose pip finds a CPU build of torch there
    gives it to the environments."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.uv = _uv(args.uv)
        self.root = (Path(args.envs) if args.envs else _default_envs()).resolve()
        self.python = args.python or f"{sys.version_info.major}.{sys.version_info.minor}"
        torch = args.torch or installed_version("torch")
        self.torch = f"torch=={torch.split('+')[0]}" if torch else "torch"
        self.suite = args.suite.split() if args.suite else suite_requirement()
        self.pip_args = list(args.pip_arg)
        self.recipes: dict[str, Recipe] = args.recipes
        links = os.environ.get("PIP_FIND_LINKS", "").split() if not os.environ.get("UV_FIND_LINKS") else []
        self.find_links = [f"--find-links={link}" for link in links]

    def path(self, target: str) -> Path:
        torch = self.torch.removeprefix("torch==") if "==" in self.torch else "any"
        recipe = self.recipes.get(target)
        if recipe is None:
            return self.root / f"py{self.python}-torch{torch}-transformers{target}"
        return self.root / (
            f"py{self.python}-{target}" if recipe.own_torch else f"py{self.python}-torch{torch}-{target}"
        )

    def _call(self, command: list[str], what: str) -> None:
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            lines = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
            raise SweepError(f"{what} failed: {' / '.join(lines[-3:]) or f'exit {done.returncode}'}")

    def ensure(self, target: str) -> tuple[Path, str]:
        """The environment's python, and "new" or "cached"."""
        env = self.path(target)
        python = _env_python(env)
        note = "cached" if python.exists() else "new"
        if note == "new":
            env.parent.mkdir(parents=True, exist_ok=True)
            self._call([*self.uv, "venv", "-q", "--python", self.python, str(env)], f"uv venv {env}")
        install = [*self.uv, "pip", "install", "-q", "--python", str(python), *self.find_links]
        recipe = self.recipes.get(target)
        if recipe is None:
            wanted = [f"transformers=={target}" if target.count(".") == 2 else f"transformers~={target}.0"]
            torch = [self.torch]
        else:
            wanted, torch = list(recipe.requirements), [] if recipe.own_torch else [self.torch]
        self._call([*install, *torch, *wanted, *BASE_REQUIREMENTS, *self.pip_args], f"installing {' '.join(wanted)}")
        if recipe is not None and recipe.remove:
            # wheels built for another torch that break the library's import
            self._call([*self.uv, "pip", "uninstall", "-q", "--python", str(python), *recipe.remove], "uninstalling")
        self._call([*install, "--no-deps", *self.suite, *self.pip_args], "installing the suite")
        return python, note


# --------------------------------------------------------------------------- runs


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTEST_ADDOPTS", "PYTEST_PLUGINS"):
        env.pop(name, None)
    return env


def _profile_args(pytest_args: Sequence[str]) -> list[str]:
    named = any(a.startswith(("--conformance-profile", "--hypothesis-profile")) for a in pytest_args)
    return [] if named else ["--conformance-profile", "ci"]


def _run_suite(
    python: str, impl: str, out: Path, workers: str, pytest_args: Sequence[str], *, here: bool = False
) -> tuple[Path, int]:
    """One run of the suite, its output in ``out/pytest.log``.  A release runs in ``out`` with nothing of this
    environment (``PYTHONPATH`` and the like dropped); an implementation of this environment (``here``) runs
    in the current directory with the current environment, so that it imports as it would in a pytest run."""
    out.mkdir(parents=True, exist_ok=True)
    report = out / "report.json"
    if report.exists():
        report.unlink()
    command = [python, "-m", "pytest", "--pyargs", "layer_conformance", "--impl", impl, "-p", "no:cacheprovider"]
    command += [f"--conformance-report={out}", *_profile_args(pytest_args)]
    if workers != "0":
        command += ["-n", workers]
    command += list(pytest_args)
    with open(out / "pytest.log", "w", encoding="utf-8") as log:
        cwd, env = (None, None) if here else (out, _child_env())
        done = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, cwd=cwd, env=env)
    return report, done.returncode


def _load(run: Run, report: Path, rc: int | None = None) -> Run:
    try:
        run.report = load_report(report)
        run.report_path = f"{report.parent.name}/{report.name}"  # relative to OUT: sweep.json is published
    except ReportError as exc:
        run.error = f"no report (pytest exit {rc}; see {report.parent / 'pytest.log'})" if rc is not None else str(exc)
    return run


def _write_times(run: Run, out: Path) -> None:
    times = {"env_seconds": run.env_seconds, "suite_seconds": run.suite_seconds, "env": run.env_note}
    times["env_bytes"] = run.env_bytes
    (out / "sweep-run.json").write_text(json.dumps(times) + "\n", encoding="utf-8")


def _read_times(run: Run, out: Path) -> None:
    """The times of the run that wrote a reused report (``sweep-run.json`` next to it), if it left them."""
    try:
        times = json.loads((out / "sweep-run.json").read_text(encoding="utf-8"))
        run.env_seconds, run.suite_seconds = float(times["env_seconds"]), float(times["suite_seconds"])
        run.env_note = str(times.get("env", ""))
        run.env_bytes = int(times.get("env_bytes") or 0)
    except (OSError, ValueError, KeyError, TypeError):
        pass


def _counts(run: Run) -> str:
    if run.report is None:
        return f"did not run: {run.error}"
    counts = run.counts()
    order = ("passed", "xfailed", "differs", "missing", "skipped", "failed", "error", "crashed", "stale")
    return ", ".join(f"{counts[o]} {o}" for o in order if counts.get(o)) or "no results"


def _progress(index: int, total: int, what: str, run: Run) -> str:
    parts = []
    if run.env_note.endswith("reused"):
        parts.append("report reused")
    else:
        if run.env_note:
            parts.append(f"env {run.env_seconds:.1f} s ({run.env_note})")
        if run.suite_seconds:
            parts.append(f"suite {run.suite_seconds:.1f} s")
    version = f" ({run.version})" if run.report and run.version not in (run.label, None) else ""
    head = f"[{index + 1:>{len(str(total))}}/{total}] {what} {run.label}{version}"
    return f"{head}: {', '.join(parts)}{': ' if parts else ''}{_counts(run)}"


class Runner:
    """Runs the suite for the i-th target, once, printing a progress line."""

    def __init__(self, args: argparse.Namespace, pytest_args: list[str], write: Callable[[str], None]) -> None:
        self.args = args
        self.pytest_args = pytest_args
        self.write = write
        self.out = Path(args.out).resolve()
        self.targets: list[str] = list(args.impl) or list(args.releases) or list(PUBLISHED)
        self.kind = "impl" if args.impl else "transformers"
        self.envs = Environments(args) if self.kind == "transformers" else None
        self.done: dict[int, Run] = {}
        #: how many runs the progress lines count to (a job: its own targets)
        self.total = len(self.targets)

    def __call__(self, index: int) -> Run:
        if index in self.done:
            return self.done[index]
        label = self.targets[index]
        library = self.envs is not None and label in self.args.recipes
        run = Run(label, kind="impl" if self.envs is None else "library" if library else "release")
        out = self.out / safe_label(label)
        if self.args.reuse and (out / "report.json").exists():
            _load(run, out / "report.json")
            _read_times(run, out)
            run.env_note = f"{run.env_note}, reused" if run.env_note else "reused"
        else:
            try:
                started = time.perf_counter()
                if self.envs is not None:
                    python, run.env_note = self.envs.ensure(label)
                    impl = label if library else "transformers"
                else:
                    python, impl = Path(sys.executable), label
                run.env_seconds = time.perf_counter() - started
                if self.envs is not None:  # measured, not timed: walking a 10 GB environment takes seconds
                    run.env_bytes = disk_size(self.envs.path(label))
                started = time.perf_counter()
                here = self.envs is None
                pytest_args = _for_impl(self.pytest_args, impl)
                report, rc = _run_suite(str(python), impl, out, self.args.workers, pytest_args, here=here)
                run.suite_seconds = time.perf_counter() - started
                _load(run, report, rc)
                _write_times(run, out)
            except SweepError as exc:
                run.error = str(exc)
        self.done[index] = run
        what = "implementation" if self.kind != "transformers" else "library" if library else "transformers"
        self.write(_progress(len(self.done) - 1, self.total, what, run))
        return run


def bisect(n: int, run_at: Callable[[int], Run]) -> list[int]:
    """The indices to run so that every change of outcome is pinned between two consecutive indices, assuming an
    outcome equal at both ends of an interval did not change within it."""
    if n == 0:
        return []
    ran = {0, n - 1}
    run_at(0)
    run_at(n - 1)

    def go(lo: int, hi: int) -> None:
        if hi - lo <= 1:
            return
        a, b = run_at(lo), run_at(hi)
        if a.report is not None and b.report is not None and a.outcomes() == b.outcomes():
            return
        mid = (lo + hi) // 2
        ran.add(mid)
        run_at(mid)
        go(lo, mid)
        go(mid, hi)

    go(0, n - 1)
    return sorted(ran)


# --------------------------------------------------------------------------- xfails


def _xfails_file_options(pytest_args: Sequence[str]) -> list[tuple[int, int, str]]:
    """The ``--xfails-file`` options among the pytest arguments: (index, how many arguments it takes, value)."""
    out = []
    skip = False
    for i, arg in enumerate(pytest_args):
        if skip:
            skip = False
        elif arg.startswith("--xfails-file="):
            out.append((i, 1, arg.split("=", 1)[1]))
        elif arg == "--xfails-file" and i + 1 < len(pytest_args):
            out.append((i, 2, pytest_args[i + 1]))
            skip = True
    return out


def _for_impl(pytest_args: Sequence[str], impl: str) -> list[str]:
    """The pytest arguments of one run: ``--xfails-file NAME=PATH`` only where ``NAME`` is the run's
    implementation (sweeping implementations, each run selects one)."""
    dropped = {
        index + k
        for index, count, value in _xfails_file_options(pytest_args)
        if value.split("=", 1)[0] != impl
        for k in range(count)
    }
    return [arg for i, arg in enumerate(pytest_args) if i not in dropped]


def _xfail_files(pytest_args: Sequence[str]) -> list[tuple[str, str]]:
    """The ``--xfails-file IMPL=PATH`` values among the pytest arguments."""
    values = [value for _, _, value in _xfails_file_options(pytest_args)]
    return [(name, path) for name, _, path in (v.partition("=") for v in values if "=" in v)]


def xfail_entries(impls: Sequence[str], pytest_args: Sequence[str]) -> list[tuple[str, XfailEntry]]:
    entries: list[tuple[str, XfailEntry]] = []
    for impl in dict.fromkeys(impls):
        entries += [(impl, e) for e in bundled_entries(impl)]
    for impl, path in _xfail_files(pytest_args):
        entries += [(impl, e) for e in read_xfails(path)]
    return entries


def _update_xfails(path: str, checks: Sequence[history.RangeCheck], write: Callable[[str], None]) -> None:
    target = Path(path).resolve()
    fixes = {}
    for check in checks:
        file, _, line = check.entry.source.rpartition(":")
        same = Path(file).resolve() == target or (
            file.startswith("layer_conformance/xfails/") and target.name == Path(file).name
        )
        if same and check.problems and check.suggested:
            fixes[int(line)] = check.suggested
    if not fixes:
        write(f"xfails: {path}: nothing to update")
        return
    text = target.read_text(encoding="utf-8")
    target.write_text(history.update_versions(text, fixes), encoding="utf-8")
    for lineno, versions in sorted(fixes.items()):
        write(f"xfails: {path}:{lineno}: version range set to {versions}")


# --------------------------------------------------------------------------- main


def _surface_section(runs: Sequence[Run]) -> list[str]:
    from .matrix import surface_lines

    reports = [run.report for run in runs if run.report is not None]
    names = [run.name for run in runs if run.report is not None]
    return surface_lines(names, reports)


def sweep(argv: Sequence[str], write: Callable[[str], None] = print) -> int:
    args, pytest_args = parse(argv)
    if args.plan:
        from .jobs import print_plan

        return print_plan(args, write, PUBLISHED)
    if args.job or args.shard:
        from .jobs import run_job

        return run_job(args, write, PUBLISHED, lambda: Runner(args, pytest_args, write))
    runner = Runner(args, pytest_args, write)
    what = "implementations" if runner.kind == "impl" else "targets"
    noun = what if len(runner.targets) != 1 else what.removesuffix("s")
    write(f"layer-conformance sweep: {len(runner.targets)} {noun} -> {runner.out}")
    if runner.envs is not None:
        own = [t for t in runner.targets if getattr(runner.envs.recipes.get(t), "own_torch", False)]
        torch = runner.envs.torch + (f"; {', '.join(own)}: the torch of its recipe" if own else "")
        write(f"  environments: {runner.envs.root} (python {runner.envs.python}, {torch})")
    indices = bisect(len(runner.targets), runner) if args.bisect else range(len(runner.targets))
    runs = [runner(i) for i in indices]
    return conclude(runs, args, pytest_args, runner.out, write)


def conclude(
    runs: Sequence[Run], args: argparse.Namespace, pytest_args: list[str], out: Path, write: Callable[[str], None]
) -> int:
    """What a sweep says once its runs are done (on one machine, or merged from the slices of its jobs): the
    changes between consecutive releases, the xfail ranges, ``sweep.json``, the matrix and the pages; the
    exit code."""
    done = [run for run in runs if run.report is not None]
    series = history.releases(done)
    labels = [run.name for run in series]

    if len(series) > 1:
        write("")
        write(f"== changes between consecutive releases ({len(series)} run) ==")
        changed = history.changes(series)
        for key, segments in changed:
            write(f"{key}: {history.describe(segments, labels)}")
        if not changed:
            write("none: every property has the same outcome in every release")

    try:
        entries = xfail_entries([run.impl for run in done if run.impl], pytest_args)
    except XfailFileError as exc:
        raise SweepError(str(exc)) from None
    checks = history.check_xfails(entries, done)
    disagree = [c for c in checks if c.verdict == "disagrees"]
    write("")
    write(
        f"== xfail ranges: {len(checks)} lines, {sum(c.verdict == 'agrees' for c in checks)} agree, "
        f"{len(disagree)} disagree, {sum(c.verdict == 'not exercised' for c in checks)} not exercised =="
    )
    for check in checks:
        if check.verdict != "agrees":
            write(history.describe_check(check))
    if args.update_xfails:
        _update_xfails(args.update_xfails, checks, write)

    # the command as anyone would rerun it: no paths of this machine (environments, output, suite)
    rerun = [*(f"--impl={i}" for i in args.impl), *args.releases, *(["--", *pytest_args] if pytest_args else [])]
    regenerate = shlex.join(["layer-conformance", "sweep", *rerun])
    data = history.summary(runs, checks, command=["layer-conformance", "sweep", *rerun])
    surface = _surface_section(done)
    as_json = json.dumps(data, indent=1) + "\n"
    out.mkdir(parents=True, exist_ok=True)
    (out / "sweep.json").write_text(as_json, encoding="utf-8")
    history.write_pages(out / "matrix.md", data, surface, regenerate.strip(), stem="sweep")
    if args.parity:
        from .ecosystem import markdown as parity
        from .ecosystem import picture

        # the page's own path as anyone names it: relative to where the sweep ran, if it is below it
        page = Path(args.parity).resolve()
        named = page.relative_to(Path.cwd()) if page.is_relative_to(Path.cwd()) else Path(page.name)
        again = ["layer-conformance", "sweep", *(f"--impl={i}" for i in args.impl), *args.releases]
        again += ["--parity", named.as_posix(), *(["--", *pytest_args] if pytest_args else [])]
        page.parent.mkdir(parents=True, exist_ok=True)
        drawn = page.with_suffix(".svg")
        drawn.write_text(picture(runs), encoding="utf-8")
        page.write_text(parity(runs, entries, regenerate=shlex.join(again), picture=drawn.name), encoding="utf-8")
    if args.markdown:
        history.write_pages(Path(args.markdown), data, surface, regenerate.strip())
    if args.summary:
        Path(args.summary).parent.mkdir(parents=True, exist_ok=True)
        Path(args.summary).write_text(as_json, encoding="utf-8")
    unclean = [run for run in runs if not run.clean]
    write("")
    write(
        f"layer-conformance sweep: {len(runs)} run, {len(runs) - len(unclean)} clean"
        + (f"; not clean: {', '.join(run.label for run in unclean)}" if unclean else "")
        + f"; {out / 'matrix.md'}, {out / 'sweep.html'}"
    )
    return 1 if unclean or disagree else 0


def main(argv: Sequence[str] | None = None) -> int:
    from .jobs import JobError

    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] == ["merge"]:
            from .jobs import merge

            runs, settings, pytest_args, out = merge(
                argv[1:], print, published=PUBLISHED, release=_RELEASE, progress=_progress
            )
            return conclude(runs, settings, pytest_args, out, print)
        return sweep(argv)
    except (SweepError, JobError) as exc:
        command = "layer-conformance sweep merge" if argv[:1] == ["merge"] else "layer-conformance sweep"
        print(f"{command}: {exc}", file=sys.stderr)
        return 2
