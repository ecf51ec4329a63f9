"""Environment and sys.path that let a function module import outside Lambda (bench and lean-import checks)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ("authorizer", "api", "status", "worker", "dead_letter", "webhook")

SETTINGS = {
    "RETOUCH_TABLE_NAME": "retouch-table",
    "RETOUCH_BUCKET_NAME": "retouch-bucket",
    "RETOUCH_JOBS_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/jobs",
    "RETOUCH_WEBHOOKS_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/webhooks",
    "RETOUCH_WEBHOOKS_DEAD_LETTER_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/webhooks-dlq",
    "RETOUCH_PROVIDER_BASE_URL": "https://api.openai.com/v1",
    "RETOUCH_PROVIDER_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:provider",
    "RETOUCH_ROUTING_DOCUMENT": "default.json",
    "RETOUCH_UPSTREAM_SECRETS_PREFIX": "retouch/upstreams/",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_SERVICE_NAME": "retouch",
}


def existing_functions() -> list[str]:
    return [name for name in FUNCTIONS if (ROOT / "functions" / name / "app.py").exists()]


def function_env(name: str) -> dict[str, str]:
    env = {**os.environ, **SETTINGS}
    # What the Lambda runtime sets that changes what the imports do: Powertools' Tracer is enabled (Tracing: Active)
    # and patches botocore; the X-Ray SDK takes its Lambda path. Outside Lambda the SDK's recorder builds two botocore
    # clients for centralized sampling at import (~100 ms that no deployed function pays).
    env.update({"LAMBDA_TASK_ROOT": str(ROOT / "functions" / name), "AWS_LAMBDA_FUNCTION_NAME": f"retouch-{name}",
                "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13"})
    for local_only in ("POWERTOOLS_TRACE_DISABLED", "AWS_SAM_LOCAL"):
        env.pop(local_only, None)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "functions" / name), str(ROOT / "layers" / "common")])
    return env
