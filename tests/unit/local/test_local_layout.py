"""What belongs where in local/: the runtime never depends on the load generator, and local-only code stays out of
the deployed package."""

from __future__ import annotations

import ast
from pathlib import Path

from local import REPO_ROOT

LOCAL_DIR = REPO_ROOT / "local"


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_nothing_the_stack_runs_imports_the_load_generator():
    # Given every module of the local runtime (local/load itself aside)
    runtime = [path for path in LOCAL_DIR.rglob("*.py") if "load" not in path.relative_to(LOCAL_DIR).parts[:1]]

    # Then none imports local.load: it is bench and test support, not runtime
    importers = [str(path.relative_to(REPO_ROOT)) for path in runtime
                 if any(name == "local.load" or name.startswith("local.load.") for name in imported_modules(path))]
    assert runtime and importers == []


def test_the_deployed_package_imports_nothing_of_the_local_runtime():
    # Given the layer every function ships with
    package = REPO_ROOT / "layers" / "common" / "retouch"

    # Then no module of it imports `local` (local seeding lives in local/seed.py)
    importers = [str(path.relative_to(REPO_ROOT)) for path in package.rglob("*.py")
                 if any(name == "local" or name.startswith("local.") for name in imported_modules(path))]
    assert importers == []
