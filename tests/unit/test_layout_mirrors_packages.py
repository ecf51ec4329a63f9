"""tests/unit/ mirrors the `retouch` packages: a test of `retouch.jobs` is found under tests/unit/jobs/, and a folder
that names no package is one of the few documented here. Test modules directly under tests/unit/ check the package
as a whole or a top-level module (`retouch.errors`, `retouch.retry`, ...)."""

from __future__ import annotations

from pathlib import Path

UNIT = Path(__file__).resolve().parent
PACKAGE = UNIT.parents[1] / "layers" / "common" / "retouch"
# Folders for what is not a `retouch` sub-package, each with what it tests.
NOT_PACKAGES = {
    "local": "the local runtime (local/)",
    "template": "template.yaml: policies, operations, each function's cold imports",
    "tooling": "the code scripts and tests share (tooling/)",
}


def _package_folders() -> set[tuple[str, ...]]:
    return {init.parent.relative_to(PACKAGE).parts for init in PACKAGE.rglob("__init__.py")}


def _misplaced(test_modules: list[Path], packages: set[tuple[str, ...]]) -> list[str]:
    found = []
    for module in test_modules:
        folder = module.parent.relative_to(UNIT).parts
        if folder and folder[0] not in NOT_PACKAGES and folder not in packages:
            found.append(str(module.relative_to(UNIT)))
    return sorted(found)


def test_every_test_module_sits_in_a_folder_named_for_its_package() -> None:
    assert _misplaced(sorted(UNIT.rglob("test_*.py")), _package_folders()) == []


def test_a_folder_that_names_no_package_is_reported() -> None:
    # Given test modules under a catch-all folder and under a package's folder
    modules = [UNIT / "core" / "test_things.py", UNIT / "jobs" / "test_jobs.py", UNIT / "test_whole.py",
               UNIT / "local" / "test_local_x.py"]

    # Then only the catch-all's module is misplaced
    assert _misplaced(modules, _package_folders()) == ["core/test_things.py"]


def test_the_documented_exceptions_exist_and_name_no_package() -> None:
    for name in NOT_PACKAGES:
        assert (UNIT / name).is_dir(), f"tests/unit/{name} is gone: drop it from NOT_PACKAGES"
        assert (name,) not in _package_folders(), f"retouch.{name} exists: its tests need no exception"
