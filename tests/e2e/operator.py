"""The operator's side of the e2e tier: the admin CLI, run against the local stack's moto server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ADMIN = Path(sys.executable).parent / "retouch-admin"


def admin(stack, *argv: str) -> dict:
    env = {**os.environ, "AWS_ENDPOINT_URL": stack.aws_endpoint_url, "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
           "RETOUCH_TABLE_NAME": stack.resources.ref("Table")}
    result = subprocess.run([str(ADMIN), "--json", *argv], env=env, capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else {}
