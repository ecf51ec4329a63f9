"""The web layer (routes, request parsing, the app) reaches storage only through the wiring modules
(retouch/wiring/), so each function's collaborators are built in one place and a route cannot build its own."""

from __future__ import annotations

import ast
from pathlib import Path

WEB_DIR = Path(__file__).resolve().parents[2] / "layers" / "common" / "retouch" / "web"


def _data_imports(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found += [name for name in names if name == "retouch.data" or name.startswith("retouch.data.")]
    return found


def test_no_module_under_retouch_web_imports_retouch_data() -> None:
    offenders = {str(path.relative_to(WEB_DIR)): _data_imports(path.read_text()) for path in WEB_DIR.rglob("*.py")}
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_check_sees_every_form_of_a_data_import() -> None:
    assert _data_imports("import retouch.data.jobs") == ["retouch.data.jobs"]
    assert _data_imports("from retouch.data.ledger import LedgerRepository") == [
        "retouch.data.ledger", "retouch.data.ledger.LedgerRepository"]
    assert _data_imports("from retouch import data") == ["retouch.data"]
    assert _data_imports("from retouch.wiring.api import jobs") == []
