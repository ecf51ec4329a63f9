"""The import graph between `retouch` packages (from every import statement, deferred ones included) and its
cycles; tests/unit/test_package_cycles.py asserts there are none, scripts/code_shape.py prints them."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = ROOT / "layers" / "common" / "retouch"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package_of(module: str) -> str:
    """retouch.jobs.process -> retouch.jobs; top-level modules (retouch.errors) are their own node."""
    parts = module.split(".")
    return ".".join(parts[:2])


def _imported_modules(path: Path, module: str) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return {name for name in found if name == "retouch" or name.startswith("retouch.")}


def package_import_graph() -> dict[str, set[str]]:
    """Edges between `retouch` subpackages (and top-level modules), from every import statement."""
    modules = {_module_name(p): p for p in PACKAGE_DIR.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        source = _package_of(module)
        graph.setdefault(source, set())
        for imported in _imported_modules(path, module):
            owner = imported
            while owner not in modules and "." in owner:
                owner = owner.rsplit(".", 1)[0]
            target = _package_of(owner)
            if target != source and target != "retouch":
                graph[source].add(target)
    return graph


def package_cycles(graph: dict[str, set[str]] | None = None) -> list[list[str]]:
    """Strongly connected components with more than one package (Tarjan)."""
    graph = package_import_graph() if graph is None else graph
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles
