"""The package's layout: its rooms, the imports between them, and the names that point into it.

The import graph is read from the source (:mod:`tests.imports`: every import, those inside functions
included), so a cycle hidden in a function body counts as much as one at the top of a module.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from tests.imports import PACKAGE, ROOT, module_files, read_graph

GRAPH = read_graph()

#: Which rooms may import which: the layers of the package (the root is the shared model).  A room not
#: listed imports the root only.
MAY_IMPORT = {
    "(root)": set(),
    "reference": set(),
    "strategies": {"(root)"},
    "adapters": {"(root)"},
    "formats": {"(root)"},
    "support": {"(root)", "strategies"},
    "properties": {"(root)", "reference", "strategies", "support"},
    "plugin": {"(root)", "formats", "support"},
    "tools": {"(root)", "formats", "support"},
}


def room(module: str) -> str:
    parts = module.split(".")
    if len(parts) > 2 or (len(parts) == 2 and GRAPH.modules[module].name == "__init__.py"):
        return parts[1]
    return "(root)"


def test_the_graph_reads_every_module_and_import():
    assert f"{PACKAGE}.plugin.records" in GRAPH.modules
    assert f"{PACKAGE}.strategies.regimes" in GRAPH.modules
    assert f"{PACKAGE}.reference.masks" in GRAPH.modules
    deferred = [i for i in GRAPH.imports if i.deferred]
    assert deferred, "imports inside functions are part of the graph"


def test_no_import_cycle():
    cycles = GRAPH.cycles()
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_the_cycle_finder_finds_a_cycle_inside_a_function(tmp_path):
    for directory in ("conformance", "reference", "strategies"):
        (tmp_path / directory).mkdir()
    (tmp_path / "conformance" / "__init__.py").write_text("")
    (tmp_path / "conformance" / "a.py").write_text("from . import b\n")
    (tmp_path / "conformance" / "b.py").write_text("def f():\n    from layer_conformance import a\n")
    graph = read_graph(tmp_path)
    assert graph.cycles() == [[f"{PACKAGE}.a", f"{PACKAGE}.b", f"{PACKAGE}.a"]]


def test_rooms_import_only_the_rooms_below_them():
    wrong = sorted(
        f"{i.source} ({room(i.source)}) imports {i.target} ({room(i.target)}), line {i.line}"
        for i in GRAPH.imports
        if room(i.source) != room(i.target) and room(i.target) not in MAY_IMPORT.get(room(i.source), {"(root)"})
    )
    assert not wrong, "\n".join(wrong)


def test_nothing_outside_the_plugin_imports_it():
    """The plugin holds pytest hooks only: the tools, the formats, the properties and what they use never reach
    into it (the package's own modules, and the repository's benchmarks and self-tests that are not about the
    plugin)."""
    outside = [i for i in GRAPH.imports if room(i.target) == "plugin" and room(i.source) != "plugin"]
    assert not outside, outside


def test_rooms_are_packages():
    """Every directory of the package is a package with a docstring saying what it holds."""
    for path in module_files().values():
        if path.name == "__init__.py":
            text = path.read_text(encoding="utf-8")
            assert text.lstrip().startswith(('"""', "'''")), f"{path}: a room says what it holds"
    directories = {p.parent for p in module_files().values()}
    for directory in directories:
        assert (directory / "__init__.py").exists(), f"{directory} has no __init__.py"


# --------------------------------------------------------------------------- names that point into the package

_DOTTED = re.compile(r"\blayer_conformance(?:\.[A-Za-z_]\w*)+")
#: A path in the repository (``conformance/plugin/records.py``), or in the installed package
#: (``layer_conformance/xfails/transformers.txt``, ``conformance/`` in the repository).
_REPO_PATH = re.compile(
    r"(?<![\w/.-])((?:layer_conformance|conformance|reference|strategies|tests|bench|docs)/[\w/.*<>-]*[\w*>])"
)
#: Files whose names are read (the published ones, the data, the code and its self-tests).
_TEXT = ("*.py", "*.md", "*.txt", "*.toml", "*.ini", "*.yml", "*.cfg")


def _texts() -> list[Path]:
    found = []
    for pattern in _TEXT:
        for path in ROOT.rglob(pattern):
            parts = path.relative_to(ROOT).parts
            if parts[0].startswith(".") or any(p in ("__pycache__", "build", "dist") for p in parts):
                continue
            if parts[0].endswith(".egg-info"):
                continue
            found.append(path)
    return sorted(found)


def _resolves(dotted: str) -> bool:
    """A module, or an attribute (any depth) of a module."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


@pytest.mark.parametrize("path", _texts(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_name_and_path_it_mentions_exists(path):
    """A dotted name (``layer_conformance.plugin.records``) in code, docstrings, docs or data files names a module or an
    attribute that exists; a repository path (``conformance/plugin/records.py``) names a file or directory
    that exists.  (A name that moved and was forgotten in a comment misleads the next reader.)"""
    text = path.read_text(encoding="utf-8")
    wrong = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        for match in _DOTTED.finditer(line):
            name = match[0].rstrip(".")
            if line[: match.start()].endswith("no:"):
                continue  # a pytest plugin's name (-p no:layer_conformance.speedups), not a module
            if not _resolves(name):
                wrong.append(f"{path.relative_to(ROOT)}:{lineno}: {name}")
        for rel in _REPO_PATH.findall(line):
            rel = rel.rstrip(".")
            if "*" in rel or "<" in rel:
                continue
            in_repo = ROOT / re.sub(r"^layer_conformance/", "conformance/", rel)
            if not in_repo.exists():
                wrong.append(f"{path.relative_to(ROOT)}:{lineno}: {rel}")
    assert not wrong, "names that point nowhere:\n" + "\n".join(wrong)
