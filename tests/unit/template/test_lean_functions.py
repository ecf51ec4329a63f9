"""Cold starts: each function imports only what it uses (checked in a fresh interpreter)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from scripts.function_env import ROOT, existing_functions, function_env

HEAVY = ("PIL", "httpx", "openai")
# Which heavy packages each function may import at cold start.
ALLOWED = {"authorizer": set(), "status": set(), "dead_letter": set(), "api": set(), "worker": set(),
           "webhook": set()}


@pytest.mark.parametrize("name", existing_functions())
def test_function_imports_no_heavy_package_at_cold_start(name):
    probe = ("import json, sys; import app; "
             f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))")
    result = subprocess.run([sys.executable, "-c", probe], env=function_env(name), cwd=ROOT / "functions" / name,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert set(json.loads(result.stdout.strip().splitlines()[-1])) <= ALLOWED[name]
