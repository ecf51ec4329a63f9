"""Only the adapters (retouch/data/) and the composition roots that build them (retouch/wiring/) import
`retouch.data`. The domain, the web layer, the admin tool and the functions' entry points speak to ports
(retouch/ports.py), which own the values and failures they speak (KeyTaken, ObjectMissing, JobFilter, ...); so an
adapter can change, or be replaced by a fake, without a domain module noticing, and each function's collaborators
are built in one place, where a route or a handler cannot build its own."""

from __future__ import annotations

from pathlib import Path

from tests.imports import imports_under

ROOT = Path(__file__).resolve().parents[2]
# Where `retouch.data` may be imported: the adapters themselves, and the composition roots.
ALLOWED_PACKAGES = ("data", "wiring")


def _data_imports(source: str, package: str = "") -> list[str]:
    """The `retouch.data` modules and names `source` imports (see tests/imports.py)."""
    return imports_under(source, package, "retouch.data")


def data_importers(root: Path) -> dict[str, list[str]]:
    """Each module of the layer's `retouch` (outside data/ and wiring/) and of functions/ under `root` that imports
    `retouch.data`, by path from `root`, with what it imports."""
    layer = root / "layers" / "common"
    modules = [(path, ".".join(path.relative_to(layer).parent.parts)) for path in (layer / "retouch").rglob("*.py")
               if path.relative_to(layer / "retouch").parts[0] not in ALLOWED_PACKAGES]
    modules += [(path, "") for path in (root / "functions").rglob("*.py")]
    found = {path.relative_to(root).as_posix(): _data_imports(path.read_text(), package) for path, package in modules}
    return {path: names for path, names in sorted(found.items()) if names}


def test_only_the_adapters_and_the_composition_roots_import_retouch_data() -> None:
    assert data_importers(ROOT) == {}


def test_the_check_finds_a_planted_import(tmp_path: Path) -> None:
    # Given a tree with data imports in the domain, the web layer and a function, and in data/ and wiring/
    retouch = tmp_path / "layers" / "common" / "retouch"
    planted = {
        retouch / "jobs" / "planted.py": "from retouch.data.jobs import JobRepository\n",
        retouch / "web" / "routes" / "deferred.py": "def route():\n    from retouch import data\n",
        retouch / "billing" / "relative.py": "from ..data.ledger import LedgerRepository\n",
        retouch / "ports.py": "from retouch.models.records import JobRecord\n",
        retouch / "data" / "jobs.py": "from retouch.data.items import to_item\n",
        retouch / "wiring" / "api.py": "from retouch.data.jobs import JobRepository\n",
        tmp_path / "functions" / "sync" / "app.py": "import retouch.data.accounts\n",
    }
    for path, source in planted.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)

    # When the check reads it
    found = data_importers(tmp_path)

    # Then it names each offender and what it imports, and neither data/ nor wiring/
    assert found == {
        "functions/sync/app.py": ["retouch.data.accounts"],
        "layers/common/retouch/billing/relative.py": ["retouch.data.ledger", "retouch.data.ledger.LedgerRepository"],
        "layers/common/retouch/jobs/planted.py": ["retouch.data.jobs", "retouch.data.jobs.JobRepository"],
        "layers/common/retouch/web/routes/deferred.py": ["retouch.data"],
    }


def test_the_check_sees_every_form_of_a_data_import() -> None:
    assert _data_imports("import retouch.data.jobs") == ["retouch.data.jobs"]
    assert _data_imports("from retouch.data.ledger import LedgerRepository") == [
        "retouch.data.ledger", "retouch.data.ledger.LedgerRepository"]
    assert _data_imports("from retouch import data") == ["retouch.data"]
    assert _data_imports("from .. import data", package="retouch.jobs") == ["retouch.data"]
    assert _data_imports("from .objects import ObjectStore", package="retouch.data") == [
        "retouch.data.objects", "retouch.data.objects.ObjectStore"]
    assert _data_imports("from retouch.wiring.api import jobs") == []
    assert _data_imports("from retouch.ports import KeyTaken") == []
