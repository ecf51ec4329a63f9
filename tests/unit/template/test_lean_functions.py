"""Cold starts: each function imports only what it uses (checked in a fresh interpreter), and every function
template.yaml declares is checked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from local.cloudformation.template import FUNCTION_TYPE, load_yaml
from tooling.functions import ROOT, TEMPLATE, function_env, function_names

HEAVY = ("PIL", "httpx", "openai", "mcp", "stripe")
# Which heavy packages each function may import at cold start.
ALLOWED: dict[str, set[str]] = {"authorizer": set(), "api": set(), "sync": set(), "status": set(), "worker": set(),
                                "sweeper": set(), "dead_letter": set(), "webhook": set(), "eraser": set(),
                                "payments": set(), "recharge": set(),
                                # issue 22: the MCP server is the SDK and an HTTP client of the API, nothing else
                                "mcp": {"httpx", "mcp"},
                                # issue 21: the console's backend serves the api's and payments' routes, as lean
                                "console": set()}


@pytest.mark.parametrize("name", function_names())
def test_function_imports_no_heavy_package_at_cold_start(name: str) -> None:
    probe = ("import json, sys; import app; "
             f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))")
    result = subprocess.run([sys.executable, "-c", probe], env=function_env(name), cwd=ROOT / "functions" / name,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert set(json.loads(result.stdout.strip().splitlines()[-1])) <= ALLOWED[name]


def test_every_function_in_the_template_is_in_the_checked_set() -> None:
    # Given the functions template.yaml declares, read straight from its resources
    resources = load_yaml(TEMPLATE.read_text())["Resources"]
    declared = {Path(r["Properties"]["CodeUri"]).name for r in resources.values() if r["Type"] == FUNCTION_TYPE}

    # Then the set every per-function check runs over (cold imports here, bench cold init, package sizes) is exactly
    # those, each has an allowance above, and each has an entry point
    assert set(function_names()) == declared
    assert set(ALLOWED) == declared
    assert all((ROOT / "functions" / name / "app.py").is_file() for name in declared)


def test_every_function_folder_is_declared_in_the_template() -> None:
    folders = {p.parent.name for p in (ROOT / "functions").glob("*/app.py")}
    assert folders == set(function_names())
