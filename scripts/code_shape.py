"""Print the code-shape figures issue 11 tracks: package import cycles inside `retouch`,
suppressed type errors / `noqa` counts, and the longest functions and files. A script, not a test.

Run: .venv/bin/python -m scripts.code_shape
"""

from __future__ import annotations

import ast
from pathlib import Path

from tooling.code_shape import ROOT, package_cycles

SCANNED = ("layers", "functions", "local", "scripts", "tests", "tooling")
TYPE_IGNORE = "type" + ": ignore"  # spelled apart, so this file does not count itself


def _python_files() -> list[Path]:
    return sorted(p for top in SCANNED for p in (ROOT / top).rglob("*.py") if ".venv" not in p.parts)


def main() -> None:
    files = _python_files()
    texts = {p: p.read_text() for p in files}
    print("package import cycles inside retouch:", package_cycles() or "none")
    print(f"`{TYPE_IGNORE}` count:", sum(t.count(TYPE_IGNORE) for t in texts.values()))
    print("`noqa` count:", sum(t.count("noqa") for t in texts.values()))
    functions = []
    for path, text in texts.items():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                functions.append((length, f"{path.relative_to(ROOT)}:{node.name}"))
    print("10 longest functions:")
    for length, name in sorted(functions, reverse=True)[:10]:
        print(f"  {length:4d}  {name}")
    print("10 longest files:")
    sizes = sorted(((t.count("\n"), p.relative_to(ROOT)) for p, t in texts.items()), reverse=True)
    for lines, path in sizes[:10]:
        print(f"  {lines:4d}  {path}")


if __name__ == "__main__":
    main()
