"""The operator's side of the e2e tier: the admin CLI, run against the local stack's moto server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

# The worktree's own CLI (`retouch-admin` is its entry point): the installed script may belong to another checkout.
ADMIN = [sys.executable, "-m", "retouch.admin.cli"]
LAYER = Path(__file__).resolve().parents[2] / "layers" / "common"


def admin(stack, *argv: str) -> dict:
    env = {**os.environ, "AWS_ENDPOINT_URL": stack.aws_endpoint_url, "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
           "RETOUCH_TABLE_NAME": stack.resources.ref("Table"),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(LAYER), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run([*ADMIN, "--json", *argv], env=env, capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else {}
