"""One wiring style (retouch/wiring/__init__.py): the web layer never reaches into the composition roots (a route is
handed its collaborators by its app), and an entry point builds no adapter (its wiring module does, from the
settings the entry point read)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.imports import imports_under

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "common"


_imports = imports_under


def web_wiring_imports(layer: Path) -> dict[str, list[str]]:
    """Each module of retouch/web/ (the routes and what they use) under `layer` that imports retouch.wiring."""
    found = {}
    for path in sorted((layer / "retouch" / "web").rglob("*.py")):
        package = ".".join(path.relative_to(layer).parent.parts)
        names = _imports(path.read_text(), package, "retouch.wiring")
        if names:
            found[path.relative_to(layer).as_posix()] = names
    return found


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _module_file(layer: Path, module: str) -> Path | None:
    base = layer.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _defining_module(path: str, layer: Path = LAYER, depth: int = 0) -> tuple[str, str] | None:
    """Where the class a dotted path names is defined, as (module, class), read from the layer's source (following
    re-exports, importing nothing); None when it names no class of the layer."""
    parts = path.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        module = ".".join(parts[:cut])
        source = _module_file(layer, module)
        if source is None:
            continue
        if cut != len(parts) - 1 or depth > 5:
            return None  # an attribute of an attribute: not a class the module binds
        name = parts[-1]
        for node in ast.parse(source.read_text()).body:
            if isinstance(node, ast.ClassDef) and node.name == name:
                return module, name
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    if (alias.asname or alias.name) == name:
                        return _defining_module(f"{node.module}.{alias.name}", layer, depth + 1)
        return None
    return None


def data_constructions(source: str) -> list[str]:
    """The retouch.data classes `source` calls (builds), by the path it reaches them through."""
    tree = ast.parse(source)
    bound: dict[str, str] = {}  # local name -> the dotted path it was imported as
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:  # `import a.b` binds `a`; `import a.b as c` binds `c` to a.b
                top = alias.name.split(".")[0]
                bound[alias.asname or top] = alias.name if alias.asname else top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                bound[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        called = _dotted(node.func)
        if called is None or called.split(".")[0] not in bound:
            continue
        head, _, rest = called.partition(".")
        path = ".".join(filter(None, [bound[head], rest]))
        defined = _defining_module(path)
        if defined is not None and defined[0].startswith("retouch.data."):
            found.append(path)
    return found


def handler_constructions(root: Path) -> dict[str, list[str]]:
    found = {}
    for path in sorted((root / "functions").glob("*/app.py")):
        names = data_constructions(path.read_text())
        if names:
            found[path.relative_to(root).as_posix()] = names
    return found


def test_no_web_module_imports_the_composition_roots() -> None:
    assert web_wiring_imports(LAYER) == {}


def test_no_handler_builds_a_data_adapter() -> None:
    assert handler_constructions(ROOT) == {}


def test_the_wiring_check_finds_planted_imports(tmp_path: Path) -> None:
    # Given routes modules reaching into wiring/ directly, lazily and relatively, and one that does not
    routes = tmp_path / "retouch" / "web" / "routes"
    routes.mkdir(parents=True)
    (routes / "direct.py").write_text("from retouch.wiring.api import build_api\n")
    (routes / "deferred.py").write_text("def route():\n    import retouch.wiring.status\n")
    (routes / "relative.py").write_text("from ...wiring import sync\n")
    (routes / "clean.py").write_text("from retouch.web.route_groups import RouteGroup\n")

    # Then the check names each offender, and only them
    assert web_wiring_imports(tmp_path) == {
        "retouch/web/routes/deferred.py": ["retouch.wiring.status"],
        "retouch/web/routes/direct.py": ["retouch.wiring.api", "retouch.wiring.api.build_api"],
        "retouch/web/routes/relative.py": ["retouch.wiring", "retouch.wiring.sync"],
    }


def test_the_handler_check_finds_a_planted_construction(tmp_path: Path) -> None:
    # Given handlers that build an adapter by every import form, and one that asks its wiring
    planted = {
        "by_name": "from retouch.data.accounts import AccountRepository\naccounts = AccountRepository('t')\n",
        "aliased": "from retouch.data.jobs import JobRepository as Jobs\njobs = Jobs('t')\n",
        "by_module": "import retouch.data.queue\nqueue = retouch.data.queue.JobQueue('q')\n",
        "from_package": "from retouch.data import objects\nstore = objects.ObjectStore('b')\n",
        "re_exported": "from retouch.wiring.sync import AccountRepository\naccounts = AccountRepository('t')\n",
        "wired": "from retouch.wiring.status import build_status\nfrom retouch.config import StatusSettings\n"
                 "deps = build_status(StatusSettings.from_environment())\n",
    }
    for name, source in planted.items():
        (tmp_path / "functions" / name).mkdir(parents=True)
        (tmp_path / "functions" / name / "app.py").write_text(source)

    # Then the check names each construction, and not the wired handler's calls
    assert handler_constructions(tmp_path) == {
        "functions/aliased/app.py": ["retouch.data.jobs.JobRepository"],
        "functions/by_module/app.py": ["retouch.data.queue.JobQueue"],
        "functions/by_name/app.py": ["retouch.data.accounts.AccountRepository"],
        "functions/from_package/app.py": ["retouch.data.objects.ObjectStore"],
        "functions/re_exported/app.py": ["retouch.wiring.sync.AccountRepository"],
    }
