"""The package's import graph, read from its source: every import, those inside functions included.

``python -m tests.imports`` prints the graph room by room (a *room* is a subpackage of
``layer_conformance``, or the package root), the imports between rooms, and every cycle;
``--dot FILE`` writes it for Graphviz (``dot -Tsvg FILE``), modules grouped in their rooms, a cycle's
edges in red; ``--rooms-dot FILE`` writes the rooms alone, one arrow per pair of rooms with the number of
imports behind it (a circle between rooms shows as arrows both ways).  ``tests/test_layout.py`` asserts on the same graph: no cycle, nothing outside
``plugin/`` imports it.

Only imports of ``layer_conformance`` modules count; ``TYPE_CHECKING`` blocks count too (a cycle there
is still a cycle to a reader).  A ``from package import name`` imports ``package.name`` when that is a
module of the package, else ``package`` itself.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE = "layer_conformance"
ROOT = Path(__file__).resolve().parent.parent
#: The repository's directories and the modules they are installed as (pyproject.toml's package-dir).
DIRECTORIES = {"conformance": PACKAGE, "reference": f"{PACKAGE}.reference", "strategies": f"{PACKAGE}.strategies"}


@dataclass(frozen=True)
class Import:
    source: str
    target: str
    line: int
    #: inside a function or method (runs when called, not when the module is imported)
    deferred: bool


@dataclass
class Graph:
    modules: dict[str, Path] = field(default_factory=dict)
    imports: list[Import] = field(default_factory=list)

    def edges(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = defaultdict(set)
        for i in self.imports:
            if i.source != i.target:
                out[i.source].add(i.target)
        return out

    def cycles(self) -> list[list[str]]:
        """Every strongly connected component of more than one module (or a module importing itself), each
        as one cycle through it."""
        edges = self.edges()
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        stack: list[str] = []
        on: set[str] = set()
        found: list[list[str]] = []
        counter = [0]

        def connect(v: str) -> None:
            index[v] = low[v] = counter[0]
            counter[0] += 1
            stack.append(v)
            on.add(v)
            for w in sorted(edges.get(v, ())):
                if w not in index:
                    connect(w)
                    low[v] = min(low[v], low[w])
                elif w in on:
                    low[v] = min(low[v], index[w])
            if low[v] == index[v]:
                component = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    component.append(w)
                    if w == v:
                        break
                if len(component) > 1:
                    found.append(_cycle_through(sorted(component), edges))

        sys.setrecursionlimit(max(sys.getrecursionlimit(), 10000))
        for v in sorted(self.modules):
            if v not in index:
                connect(v)
        return found


def _cycle_through(component: list[str], edges: dict[str, set[str]]) -> list[str]:
    """One cycle inside a strongly connected component, from its first module back to it."""
    members = set(component)
    start = component[0]
    path = [start]
    seen = {start}

    # depth-first search for a path back to start, staying inside the component
    def walk(v: str) -> bool:
        for w in sorted(edges.get(v, ())):
            if w == start and len(path) > 1:
                path.append(w)
                return True
            if w in members and w not in seen:
                seen.add(w)
                path.append(w)
                if walk(w):
                    return True
                path.pop()
        return False

    walk(start)
    return path


def module_files(root: Path = ROOT) -> dict[str, Path]:
    """Module name -> file, for every module of the package (as installed)."""
    out = {}
    for directory, package in DIRECTORIES.items():
        base = root / directory
        for path in sorted(base.rglob("*.py")):
            relative = path.relative_to(base).with_suffix("")
            parts = [p for p in relative.parts if p != "__init__"]
            if any(p.startswith(".") or p == "__pycache__" for p in relative.parts):
                continue
            name = ".".join([package, *parts])
            if directory == "conformance" and parts and parts[0] in ("reference", "strategies"):
                continue  # not a module of this directory (never the case; safety)
            out[name] = path
    return out


def _package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = _package_of(module, path).split(".")
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


class _Visitor(ast.NodeVisitor):
    def __init__(self, module: str, path: Path, modules: dict[str, Path]) -> None:
        self.module, self.path, self.modules = module, path, modules
        self.depth = 0
        self.found: list[Import] = []

    def _add(self, target: str, line: int) -> None:
        while target and target not in self.modules:
            if not target.startswith(PACKAGE):
                return
            target = target.rpartition(".")[0]
        if target:
            self.found.append(Import(self.module, target, line, self.depth > 0))

    def visit_FunctionDef(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = _resolve(self.module, self.path, node)
        if not base.startswith(PACKAGE):
            return
        for alias in node.names:
            candidate = f"{base}.{alias.name}"
            self._add(candidate if candidate in self.modules else base, node.lineno)

    def visit_Call(self, node: ast.Call) -> None:
        # importlib.import_module("layer_conformance.reference") and the like, with a literal name
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name == "import_module" and node.args and isinstance(node.args[0], ast.Constant):
            value = node.args[0].value
            if isinstance(value, str) and value.startswith(PACKAGE):
                self._add(value, node.lineno)
        self.generic_visit(node)


def read_graph(root: Path = ROOT) -> Graph:
    modules = module_files(root)
    graph = Graph(modules=modules)
    for module, path in modules.items():
        visitor = _Visitor(module, path, modules)
        visitor.visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        graph.imports += visitor.found
    return graph


def room(module: str) -> str:
    """The room of a module: its subpackage of ``layer_conformance`` (``plugin``), or ``(root)``."""
    parts = module.split(".")
    if len(parts) <= 2:
        return "(root)" if len(parts) == 1 or not _is_package(module) else parts[1]
    return parts[1]


_PACKAGES: set[str] = set()


def _is_package(module: str) -> bool:
    return module in _PACKAGES


def _short(module: str) -> str:
    return module.removeprefix(PACKAGE + ".") or PACKAGE


def describe(graph: Graph) -> str:
    _PACKAGES.clear()
    _PACKAGES.update(m for m, p in graph.modules.items() if p.name == "__init__.py")
    rooms: dict[str, list[str]] = defaultdict(list)
    for module in graph.modules:
        rooms[room(module)].append(_short(module))
    lines = [f"{len(graph.modules)} modules in {len(rooms)} rooms"]
    for name in sorted(rooms):
        lines.append(f"  {name}: {', '.join(sorted(rooms[name]))}")
    between: dict[tuple[str, str], int] = defaultdict(int)
    for i in graph.imports:
        a, b = room(i.source), room(i.target)
        if a != b:
            between[(a, b)] += 1
    lines.append("imports between rooms (count):")
    for (a, b), n in sorted(between.items()):
        lines.append(f"  {a} -> {b}: {n}")
    cycles = graph.cycles()
    lines.append(f"cycles: {len(cycles) or 'none'}")
    for cycle in cycles:
        lines.append("  " + " -> ".join(_short(m) for m in cycle))
    return "\n".join(lines)


def dot(graph: Graph) -> str:
    _PACKAGES.clear()
    _PACKAGES.update(m for m, p in graph.modules.items() if p.name == "__init__.py")
    in_cycle = set()
    for cycle in graph.cycles():
        in_cycle |= set(zip(cycle, cycle[1:], strict=False))
    rooms: dict[str, list[str]] = defaultdict(list)
    for module in graph.modules:
        rooms[room(module)].append(module)
    out = ["digraph layer_conformance {", "  rankdir=LR; node [shape=box, fontsize=10]; compound=true;"]
    for i, (name, members) in enumerate(sorted(rooms.items())):
        out.append(f'  subgraph cluster_{i} {{ label="{name}"; style=rounded;')
        out += [f'    "{m}" [label="{_short(m)}"];' for m in sorted(members)]
        out.append("  }")
    for source, targets in sorted(graph.edges().items()):
        for target in sorted(targets):
            style = " [color=red, penwidth=2]" if (source, target) in in_cycle else ""
            out.append(f'  "{source}" -> "{target}"{style};')
    out.append("}")
    return "\n".join(out) + "\n"


def rooms_dot(graph: Graph) -> str:
    _PACKAGES.clear()
    _PACKAGES.update(m for m, p in graph.modules.items() if p.name == "__init__.py")
    counts: dict[str, int] = defaultdict(int)
    for module in graph.modules:
        counts[room(module)] += 1
    between: dict[tuple[str, str], int] = defaultdict(int)
    for i in graph.imports:
        a, b = room(i.source), room(i.target)
        if a != b:
            between[(a, b)] += 1
    out = ["digraph rooms {", "  rankdir=BT; node [shape=box, style=rounded, fontsize=11]; edge [fontsize=9];"]
    out += [f'  "{name}" [label="{name}\\n{n} modules"];' for name, n in sorted(counts.items())]
    for (a, b), n in sorted(between.items()):
        style = ", color=red, penwidth=2" if (b, a) in between else ""
        out.append(f'  "{a}" -> "{b}" [label="{n}"{style}];')
    out.append("}")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The import graph of layer_conformance, room by room.")
    parser.add_argument("--dot", metavar="FILE", help="also write the graph for Graphviz")
    parser.add_argument("--rooms-dot", metavar="FILE", help="also write the rooms and the imports between them")
    parser.add_argument("--root", default=str(ROOT), help="the checkout to read (default: this one)")
    args = parser.parse_args(argv)
    graph = read_graph(Path(args.root))
    print(describe(graph))
    if args.dot:
        Path(args.dot).write_text(dot(graph), encoding="utf-8")
    if args.rooms_dot:
        Path(args.rooms_dot).write_text(rooms_dot(graph), encoding="utf-8")
    return 1 if graph.cycles() else 0


if __name__ == "__main__":
    raise SystemExit(main())
