"""retouch/retry.py claims to name every retry policy of the code base; this finds the retry policies in the source
(by AST) and fails on one the map does not name, so a new retry loop cannot hide in a module of its own.

What counts as a retry policy, wherever it is in `layers/common/retouch` or `functions/` (the product; the local
runtime under `local/` emulates AWS and is not part of it):
- a constant or a settings/dependency field whose name says so (`*_TRIES`, `*_ATTEMPTS`, `*RETRY*`, `*BACKOFF*`,
  `max_attempts`, `retry_*`, `*_retries`);
- a loop that tries something again: a `while` loop, or a `for` over `range(...)`, around a try/except; a loop that
  sleeps (any call named `sleep`/`_sleep`); a `for` over `range(<a *_TRIES/*_ATTEMPTS name>)`;
- an SDK's retry configuration: a `retries=` keyword or a `max_attempts`/`total_max_attempts` key;
- in template.yaml, a resource with a `maxReceiveCount`, `MaximumRetryAttempts` or `RetryAttempts`.
Each is found as a dotted name (`retouch.jobs.submit._abandon`, the function holding the loop; `retouch.retry.X`,
the constant) or `template.yaml <LogicalId>`. The map names it when its docstring holds that name; what retry.py
itself defines is the map's own. A loop that matches but is not a retry (paging, redirects) is listed below,
with the reason, and must still be found, so the list cannot go stale.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import retouch.retry

ROOT = Path(__file__).resolve().parents[2]
SOURCES = (ROOT / "layers" / "common", ROOT / "functions")
MAP_MODULE = "retouch.retry"

_CONSTANT = re.compile(r"^_?[A-Z0-9_]*(TRIES|ATTEMPTS|RETRY|RETRIES|RETRYABLE|BACKOFF)[A-Z0-9_]*$")
_FIELD = re.compile(r"^(max_attempts|retry_\w+|\w+_retry_\w+|\w+_retries|\w+_tries|\w*backoff\w*)$")
_TRIES_NAME = re.compile(r"(TRIES|ATTEMPTS)$")
_SDK_KEYS = {"retries", "max_attempts", "total_max_attempts"}
_TEMPLATE_KEYS = re.compile(r"^\s+(maxReceiveCount|MaximumRetryAttempts|RetryAttempts):")
_DOTTED = re.compile(r"\bretouch(?:\.\w+)+|\btemplate\.yaml\s+[A-Z]\w+")

# What the finder reports that is not a retry policy.
NOT_RETRIES = {
    "retouch.observability.metric_names.PROVIDER_ATTEMPTS": "a metric's name (the attempts a job took), not a policy",
    "retouch.mcp.service.RetouchMcpService._wait": "an MCP call without tasks reading its job until it ends or the "
                                                   "call's bounded wait runs out (as jobs/wait.py), not a retry",
}


def _module_name(path: Path, base: Path) -> str:
    parts = path.relative_to(base).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _called_name(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _loop_body(loop: ast.For | ast.While) -> list[ast.AST]:
    """The loop's own statements and what they contain, not the bodies of functions defined inside it."""
    found: list[ast.AST] = []
    pending: list[ast.AST] = [*loop.body, *([loop.test] if isinstance(loop, ast.While) else [])]
    while pending:
        node = pending.pop()
        found.append(node)
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            pending.extend(ast.iter_child_nodes(node))
    return found


def _tries_again(node: ast.AST) -> bool:
    """A try/except with a handler that does not end by raising: the loop goes round again after a failure."""
    return isinstance(node, ast.Try) and any(not isinstance(handler.body[-1], ast.Raise) for handler in node.handlers)


def _is_retry_loop(loop: ast.For | ast.While) -> bool:
    body = _loop_body(loop)
    over_range = (isinstance(loop, ast.For) and isinstance(loop.iter, ast.Call)
                  and _called_name(loop.iter) == "range")
    if any(isinstance(node, ast.Call) and _called_name(node) in {"sleep", "_sleep"} for node in body):
        return True
    if (isinstance(loop, ast.While) or over_range) and any(_tries_again(node) for node in body):
        return True
    if over_range and isinstance(loop, ast.For) and isinstance(loop.iter, ast.Call):
        names = [n.id if isinstance(n, ast.Name) else n.attr for arg in loop.iter.args for n in ast.walk(arg)
                 if isinstance(n, (ast.Name, ast.Attribute))]
        return any(_TRIES_NAME.search(name) for name in names)
    return False


def _policies_in(tree: ast.Module, module: str) -> set[str]:
    found: set[str] = set()

    def visit(node: ast.AST, scope: list[str], in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                visit(child, [*scope, child.name], in_function or not isinstance(child, ast.ClassDef))
                continue
            here = ".".join([module, *scope])
            if not in_function and isinstance(child, (ast.Assign, ast.AnnAssign)):
                targets = child.targets if isinstance(child, ast.Assign) else [child.target]
                for target in targets:
                    if isinstance(target, ast.Name) and (
                            _CONSTANT.match(target.id) or (scope and _FIELD.match(target.id))):
                        found.add(f"{here}.{target.id}")
            if isinstance(child, (ast.For, ast.While)) and _is_retry_loop(child):
                found.add(here)
            if isinstance(child, ast.Call) and any(k.arg in _SDK_KEYS for k in child.keywords):
                found.add(here)
            if isinstance(child, ast.Dict) and any(isinstance(k, ast.Constant) and k.value in _SDK_KEYS
                                                   for k in child.keys):
                found.add(here)
            visit(child, scope, in_function)

    visit(tree, [], False)
    return found


def retry_policies(sources: tuple[Path, ...] = SOURCES, template: Path | None = ROOT / "template.yaml") -> set[str]:
    """Every retry policy the source holds, as the dotted name of where it lives (see the module's docstring)."""
    found: set[str] = set()
    for base in sources:
        for path in sorted(base.rglob("*.py")):
            found |= _policies_in(ast.parse(path.read_text(), filename=str(path)), _module_name(path, base))
    if template is not None and template.exists():
        resource = ""
        for line in template.read_text().splitlines():
            if match := re.match(r"^  ([A-Za-z]\w*):\s*$", line):
                resource = match.group(1)
            elif _TEMPLATE_KEYS.match(line):
                found.add(f"template.yaml {resource}")
    return found


def map_names(doc: str | None = retouch.retry.__doc__) -> set[str]:
    return {" ".join(name.split()) for name in _DOTTED.findall(doc or "")}


def unnamed(policies: set[str], named: set[str], map_module: str = MAP_MODULE) -> set[str]:
    """The policies neither in the map module itself, nor named by it, nor listed as not retries."""
    return {p for p in policies if not p.startswith(map_module + ".") and p != map_module
            and p not in named and p not in NOT_RETRIES}


# ---- the code base ------------------------------------------------------------------------------------------------


def test_every_retry_policy_in_the_code_base_is_named_by_the_map() -> None:
    assert sorted(unnamed(retry_policies(), map_names())) == []


def test_the_loops_listed_as_not_retries_are_still_there() -> None:
    assert set(NOT_RETRIES) <= retry_policies()


def _defined(dotted: str, base: Path = SOURCES[0]) -> bool:
    """Whether `retouch.a.b.Name.attr` is a module with that function, class, constant or field, read from source."""
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        stem = base.joinpath(*parts[:split])
        path = stem.with_suffix(".py") if stem.with_suffix(".py").exists() else stem / "__init__.py"
        if path.exists():
            break
    else:
        return False
    scope: list[ast.stmt] = ast.parse(path.read_text()).body
    for name in parts[split:]:
        for node in scope:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
                scope = node.body
                break
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] \
                if isinstance(node, ast.AnnAssign) else []
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                scope = []
                break
        else:
            return False
    return True


def test_every_place_the_retry_map_names_exists() -> None:
    template = (ROOT / "template.yaml").read_text()
    for name in map_names():
        if name.startswith("template.yaml "):
            assert f"\n  {name.split()[1]}:" in template, name
        else:
            assert _defined(name), name


# ---- the finder, on a tree it is given ----------------------------------------------------------------------------

_PLANTED = '''
import time

from botocore.config import Config

POLL_TRIES = 4


def push(send):
    for attempt in range(3):
        try:
            return send()
        except OSError:
            continue


def wait(ready):
    while not ready():
        time.sleep(1)


def again(write):
    for _ in range(POLL_TRIES):
        if write():
            return


def client():
    return Config(retries={"mode": "standard", "max_attempts": 5})


class Settings:
    retry_base_seconds: float = 2
    attempts: int = 0


def each(items, handle):
    for item in items:
        try:
            handle(item)
        except ValueError:
            pass
'''


def _planted(tmp_path: Path) -> Path:
    package = tmp_path / "retouch"
    (package / "jobs").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "jobs" / "__init__.py").write_text("")
    (package / "jobs" / "planted.py").write_text(_PLANTED)
    (package / "retry.py").write_text("WHATEVER_TRIES = 2\n")
    (tmp_path / "template.yaml").write_text("Resources:\n  PlantedQueue:\n    Type: AWS::SQS::Queue\n"
                                            "    Properties:\n      RedrivePolicy:\n        maxReceiveCount: 3\n")
    return tmp_path


def test_the_finder_reports_each_kind_of_retry_it_is_given(tmp_path: Path) -> None:
    root = _planted(tmp_path)
    found = retry_policies((root,), root / "template.yaml")
    assert found == {"retouch.jobs.planted.POLL_TRIES", "retouch.jobs.planted.push", "retouch.jobs.planted.wait",
                     "retouch.jobs.planted.again", "retouch.jobs.planted.client",
                     "retouch.jobs.planted.Settings.retry_base_seconds", "retouch.retry.WHATEVER_TRIES",
                     "template.yaml PlantedQueue"}  # not `each`: a loop over items, not tries


def test_an_unnamed_retry_loop_fails_the_map_and_naming_it_passes(tmp_path: Path) -> None:
    root = _planted(tmp_path)
    found = retry_policies((root,), root / "template.yaml")
    doc = """Retries: retouch.jobs.planted.POLL_TRIES in retouch.jobs.planted.again; retouch.jobs.planted.wait,
    retouch.jobs.planted.client, retouch.jobs.planted.Settings.retry_base_seconds, template.yaml PlantedQueue."""
    assert unnamed(found, map_names(doc)) == {"retouch.jobs.planted.push"}
    assert unnamed(found, map_names(doc + " Pushes: retouch.jobs.planted.push.")) == set()
