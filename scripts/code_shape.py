"""Print the code-shape figures issues 11 and 25 track: package import cycles inside `retouch`, suppressed type
errors / `noqa` counts, `sys.path` edits, the places that enumerate upstream kinds or list routers, and the longest
functions and files. A script, not a test.

Run: .venv/bin/python -m scripts.code_shape [--root OTHER_CHECKOUT]   (e.g. a `git worktree` of an older commit)
"""

from __future__ import annotations

import argparse
import ast
import re
from pathlib import Path

from tooling.code_shape import ROOT, package_cycles

SCANNED = ("layers", "functions", "local", "scripts", "tests", "tooling")
TYPE_IGNORE = "type" + ": ignore"  # spelled apart, so this file does not count itself


UPSTREAM_KINDS = ("openai", "azure_openai", "aiml", "modelslab", "oxen", "runflow", "fal")
ROUTES_PACKAGE = "retouch.web.routes"
SYS_PATH_EDIT = re.compile(r"sys\.path(\[[^]]*\]\s*=|\.insert\(|\.append\(|\s*=)")


def _python_files(root: Path) -> list[Path]:
    return sorted(p for top in SCANNED for p in (root / top).rglob("*.py") if ".venv" not in p.parts)


def _product(path: Path, root: Path) -> bool:
    """Product and runtime code (where an enumeration is a place to forget), not tests or scripts."""
    return path.relative_to(root).parts[0] in ("layers", "functions", "local")


def _kinds_named(tree: ast.AST) -> set[str]:
    return {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and node.value in UPSTREAM_KINDS}


def _routers_named(tree: ast.AST, text: str, routes_modules: set[str]) -> set[str]:
    """The routes modules a module lists: imported as modules, named by dotted path, or 2+ of their names in one
    tuple or list (not the collaborator types a wiring module imports from each)."""
    named = set(re.findall(r"[\"']" + re.escape(ROUTES_PACKAGE) + r"\.(\w+)[\"']", text))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == ROUTES_PACKAGE:
            named |= {alias.name for alias in node.names if alias.name in routes_modules}
        elif isinstance(node, ast.Tuple | ast.List):
            listed = {e.value for e in node.elts if isinstance(e, ast.Constant) and e.value in routes_modules}
            named |= listed if len(listed) >= 2 else set()
    return named


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to measure (default: this one)")
    root = parser.parse_args().root.resolve()
    files = _python_files(root)
    texts = {p: p.read_text() for p in files}
    trees = {p: ast.parse(t) for p, t in texts.items()}
    if root == ROOT:
        print("package import cycles inside retouch:", package_cycles() or "none")
    print(f"`{TYPE_IGNORE}` count:", sum(t.count(TYPE_IGNORE) for t in texts.values()))
    print("`noqa` count:", sum(t.count("noqa") for t in texts.values()))
    edits = [p.relative_to(root) for p, t in texts.items() for line in t.splitlines()
             if SYS_PATH_EDIT.search(line) and not line.lstrip().startswith("#")]
    print(f"`sys.path` edits: {len(edits)} in {len(set(edits))} files", sorted({str(e) for e in edits}))
    kinds = sorted(str(p.relative_to(root)) for p, tree in trees.items()
                   if _product(p, root) and len(_kinds_named(tree)) >= 2)
    print(f"product modules that enumerate upstream kinds (name 2 or more): {len(kinds)}", kinds)
    routes_modules = {p.stem for p in (root / "layers/common/retouch/web/routes").glob("*.py")} - {"__init__"}
    routers = sorted(str(p.relative_to(root)) for p, tree in trees.items()
                     if _product(p, root) and len(_routers_named(tree, texts[p], routes_modules)) >= 2)
    print(f"product modules that list routers (name 2 or more routes modules): {len(routers)}", routers)
    functions = []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                functions.append((length, f"{path.relative_to(root)}:{node.name}"))
    print("10 longest functions:")
    for length, name in sorted(functions, reverse=True)[:10]:
        print(f"  {length:4d}  {name}")
    print("10 longest files:")
    sizes = sorted(((t.count("\n"), p.relative_to(root)) for p, t in texts.items()), reverse=True)
    for lines, path in sizes[:10]:
        print(f"  {lines:4d}  {path}")


if __name__ == "__main__":
    main()
