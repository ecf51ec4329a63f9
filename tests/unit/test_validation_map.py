"""retouch/validation.py maps where a submit is validated. Every place it names must exist, and every check on the
submit path must be named, so the map can drift from the code neither way.

A "check" is, concretely, a function of the `retouch` package that creates a 4xx RetouchError (a refusal: any class
whose `status_code` is 400-499, through its bases) or a pydantic validator (`@field_validator`/`@model_validator`,
whose ValueError the request parser turns into a 400). It is on the submit path when it is reachable, by AST, from
the two routes (retouch.web.routes.images.create_edit / create_generation): a call or a reference by name (a function
passed along, a class: its validators, `__init__`, `__call__`, bases and the field types it nests), `self.method()`,
and `anything.method()` taken as every method of that name in the package (how the submit reaches its collaborators
through `deps`). A check reached that is not the request's (settings at cold start, the answer's rendering) is listed
below with the reason.
The map names a check when its docstring holds the check's dotted name, a class holding it, or a function that
reaches it by name or through `self` (so `parse_edit` covers its private helpers, not its collaborators).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import retouch.validation

PACKAGE = Path(retouch.validation.__file__).resolve().parent
# The routes, and what the submit reaches only through a plain callable its wiring hands it (SubmitDeps.webhook_for
# is the api's WebhookSubscriber: routes no longer import wiring, so no name leads the finder there).
ROOTS = ("retouch.web.routes.images.create_edit", "retouch.web.routes.images.create_generation",
         "retouch.webhooks.subscribe.WebhookSubscriber")
_DOTTED = re.compile(r"\bretouch(?:\.\w+)+")
_VALIDATORS = {"field_validator", "model_validator"}

# Reached from the routes but not a check of the request: settings and routing validated at cold start, and the
# answer's rendering.
NOT_ON_SUBMIT: dict[str, str] = {
    "retouch.routing.document.RoutingDocument._consistent": "the routing document, validated at cold start",
    "retouch.routing.document.UpstreamRoute._has_the_fields_its_kind_needs": "the routing document, at cold start",
    "retouch.jobs.view.render_job": "renders the accepted job (410 only for a job whose outputs expired)",
}


@dataclass
class _Unit:
    """A function, or a class (whose edges are its validators, bases and field types)."""

    module: str
    imports: dict[str, str]
    node: ast.AST
    cls: str | None = None  # the class a method belongs to
    precise: set[str] = field(default_factory=set)  # names it reaches by name or self
    broad: set[str] = field(default_factory=set)  # method names it calls on anything else
    refuses: set[str] = field(default_factory=set)  # class names it calls


def _module_name(path: Path, base: Path) -> str:
    parts = path.relative_to(base).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(tree: ast.Module, module: str, is_package: bool) -> dict[str, str]:
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                names[alias.asname or alias.name] = f"{source}.{alias.name}"
    return names


def _units(base: Path) -> dict[str, _Unit]:
    units: dict[str, _Unit] = {}
    for path in sorted(base.rglob("*.py")):
        module = _module_name(path, base.parent)
        tree = ast.parse(path.read_text(), filename=str(path))
        imports = _imports(tree, module, path.name == "__init__.py")

        def visit(node: ast.AST, scope: list[str], cls: str | None, *, module: str = module,
                  imports: dict[str, str] = imports) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    name = ".".join([module, *scope, child.name])
                    is_class = isinstance(child, ast.ClassDef)
                    units[name] = _Unit(module, imports, child, None if is_class else cls)
                    visit(child, [*scope, child.name], name if is_class else cls)

        visit(tree, [], None)
    for name, unit in units.items():
        _edges(name, unit, units)
    return units


def _resolve(name: str, unit: _Unit, units: dict[str, _Unit]) -> str | None:
    for candidate in (f"{unit.module}.{name}", unit.imports.get(name, "")):
        if candidate in units:
            return candidate
    return None


def _edges(name: str, unit: _Unit, units: dict[str, _Unit]) -> None:
    node = unit.node
    if isinstance(node, ast.ClassDef):
        for item in node.body:  # validators, construction, a call of an instance, and its bases and field types
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and (
                    _is_validator(item) or item.name in {"__init__", "__call__", "__post_init__"}):
                unit.precise.add(f"{name}.{item.name}")
        roots: list[ast.AST] = [*node.bases, *(i.annotation for i in node.body if isinstance(i, ast.AnnAssign))]
    else:
        roots = [node]
    for root in roots:
        for sub in ast.walk(root):
            if isinstance(sub, ast.Name) and (target := _resolve(sub.id, unit, units)):
                unit.precise.add(target)
            elif isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name):
                if sub.value.id in {"self", "cls"} and f"{unit.cls}.{sub.attr}" in units:
                    unit.precise.add(f"{unit.cls}.{sub.attr}")
                else:
                    unit.broad.add(sub.attr)
            elif isinstance(sub, ast.Attribute):
                unit.broad.add(sub.attr)
            if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name):
                unit.refuses.add(sub.func.id)


def _is_validator(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(isinstance(d, ast.Call) and isinstance(d.func, ast.Name) and d.func.id in _VALIDATORS
               for d in node.decorator_list)


def _refusal_classes(units: dict[str, _Unit]) -> set[str]:
    """Dotted names of the RetouchError classes answering 4xx (a class without its own status takes its base's)."""
    status: dict[str, int | None] = {}

    def of(name: str) -> int | None:
        if name not in status:
            unit = units[name]
            assert isinstance(unit.node, ast.ClassDef)
            own = [s.value.value for s in unit.node.body
                   if isinstance(s, ast.Assign) and isinstance(s.value, ast.Constant)
                   and any(isinstance(t, ast.Name) and t.id == "status_code" for t in s.targets)]
            bases = [b for base in unit.node.bases
                     if isinstance(base, ast.Name) and (b := _resolve(base.id, unit, units))]
            status[name] = own[0] if own else next((s for b in bases if (s := of(b)) is not None), None)
        return status[name]

    return {name for name, unit in units.items()
            if isinstance(unit.node, ast.ClassDef) and isinstance(of(name), int) and 400 <= (of(name) or 0) < 500}


def _checks(units: dict[str, _Unit]) -> set[str]:
    refusals = _refusal_classes(units)
    found = set()
    for name, unit in units.items():
        if isinstance(unit.node, ast.ClassDef):
            continue
        validator = isinstance(unit.node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _is_validator(unit.node)
        if validator or any(_resolve(called, unit, units) in refusals for called in unit.refuses):
            found.add(name)
    return found


def _reach(starts: Iterable[str], units: dict[str, _Unit], *, broad: bool) -> set[str]:
    methods: dict[str, set[str]] = {}
    for name, unit in units.items():
        if unit.cls is not None:
            methods.setdefault(name.rsplit(".", 1)[1], set()).add(name)
    seen: set[str] = set()
    pending = [s for s in starts if s in units]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        unit = units[name]
        pending.extend(unit.precise)
        if broad:
            pending.extend(m for attr in unit.broad for m in methods.get(attr, ()))
    return seen


def submit_checks(base: Path = PACKAGE, roots: Iterable[str] = ROOTS) -> set[str]:
    """Every check on the submit path (see the module's docstring)."""
    units = _units(base)
    return _checks(units) & _reach(roots, units, broad=True)


def unnamed_checks(doc: str | None = retouch.validation.__doc__, base: Path = PACKAGE,
                   roots: Iterable[str] = ROOTS) -> set[str]:
    """The submit path's checks the map does not name, neither directly, by a class holding them, nor by a function
    that reaches them by name."""
    units = _units(base)
    named = set(_DOTTED.findall(doc or ""))
    covered = _reach(named, units, broad=False)
    return {check for check in _checks(units) & _reach(roots, units, broad=True)
            if check not in covered and check not in NOT_ON_SUBMIT
            and not any(check.startswith(n + ".") for n in named)}


# ---- the code base ------------------------------------------------------------------------------------------------


def test_every_place_the_validation_map_names_exists() -> None:
    units = _units(PACKAGE)
    named = _DOTTED.findall(retouch.validation.__doc__ or "")
    assert len(named) >= 12
    for dotted in named:
        assert dotted in units, dotted


def test_every_check_on_the_submit_path_is_named_by_the_map() -> None:
    assert sorted(unnamed_checks()) == []


def test_the_finder_sees_the_checks_a_submit_is_known_to_run() -> None:
    checks = submit_checks()
    assert {"retouch.routing.support.UpstreamSupport.check", "retouch.images.input_checks.mask_rules",
            "retouch.files.edit_inputs.file_input", "retouch.jobs.idempotency.checked_key",
            "retouch.models.requests.EditRequest._image_count", "retouch.webhooks.subscribe.vet_webhook_url",
            "retouch.billing.charges.check_can_reserve", "retouch.billing.rate_limit.admit"} <= checks
    assert set(NOT_ON_SUBMIT) <= checks


# ---- the finder, on a tree it is given ----------------------------------------------------------------------------

_ERRORS = '''
class RetouchError(Exception):
    status_code = 500

class InvalidRequest(RetouchError):
    status_code = 400

class Busy(RetouchError):
    status_code = 503
'''

_ROUTE = '''
from retouch.errors import Busy, InvalidRequest
from retouch.checks import shape, sneaky


def create(deps):
    _parse()
    deps.screen.vet()
    return sneaky


def _parse():
    shape()


def _unreached():
    raise InvalidRequest("never on the submit path")


def _busy():
    raise Busy("a 5xx is not a check")
'''

_CHECKS = '''
from retouch.errors import InvalidRequest


def shape():
    _size()


def _size():
    raise InvalidRequest("too big")


def sneaky():
    error = InvalidRequest("planted, unnamed")
    raise error


class Screen:
    def vet(self):
        raise InvalidRequest("reached through deps")
'''


def _planted(tmp_path: Path) -> Path:
    package = tmp_path / "retouch"
    package.mkdir()
    for name, text in {"__init__": "", "errors": _ERRORS, "route": _ROUTE, "checks": _CHECKS}.items():
        (package / f"{name}.py").write_text(text)
    return package


def test_the_finder_reports_the_checks_a_route_reaches(tmp_path: Path) -> None:
    package = _planted(tmp_path)
    assert submit_checks(package, ["retouch.route.create"]) == {
        "retouch.checks._size", "retouch.checks.sneaky", "retouch.checks.Screen.vet"}


def test_an_unnamed_check_fails_the_map_and_naming_it_passes(tmp_path: Path) -> None:
    package = _planted(tmp_path)
    doc = "1. Shape retouch.checks.shape\n2. Screen retouch.checks.Screen"
    assert unnamed_checks(doc, package, ["retouch.route.create"]) == {"retouch.checks.sneaky"}
    assert unnamed_checks(doc + "\n3. retouch.checks.sneaky", package, ["retouch.route.create"]) == set()
