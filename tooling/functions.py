"""The functions template.yaml declares, and the environment that imports one outside Lambda.

Every check that runs per function (the cold-import budget, the bench's cold init, the least-privilege probes)
takes its list from `function_names()`, which reads every `AWS::Serverless::Function` in the template: a function
added there is checked without editing a list here.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from local.cloudformation.template import Template

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"

SETTINGS = {
    "RETOUCH_TABLE_NAME": "retouch-table",
    "RETOUCH_BUCKET_NAME": "retouch-bucket",
    "RETOUCH_JOBS_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/jobs",
    "RETOUCH_WEBHOOKS_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/webhooks",
    "RETOUCH_WEBHOOKS_DEAD_LETTER_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/webhooks-dlq",
    "RETOUCH_ERASURE_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/erasures",
    "RETOUCH_PROVIDER_BASE_URL": "https://api.openai.com/v1",
    "RETOUCH_PROVIDER_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:provider",
    "RETOUCH_ROUTING_DOCUMENT": "default.json",
    "RETOUCH_UPSTREAM_SECRETS_PREFIX": "retouch/upstreams/",
    "RETOUCH_API_BASE_URL": "https://api.example.com",  # issue 22: the API the mcp function calls
    "RETOUCH_RECHARGE_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/recharge",
    "RETOUCH_STRIPE_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:stripe",
    "RETOUCH_CHECKOUT_RETURN_URL": "https://example.com/billing",
    "RETOUCH_USER_POOL_ID": "us-east-1_Example00",  # issue 21: the console's user pool and its client
    "RETOUCH_USER_POOL_CLIENT_ID": "console0example0client0id0",
    # issue 21: the stack's region and alarms (the console's operator page links them)
    "RETOUCH_REGION": "us-east-1",
    "RETOUCH_ALARM_NAMES": "retouch-JobsDeadLetteredAlarm-ABC,retouch-ApiErrorsAlarm-DEF",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_SERVICE_NAME": "retouch",
}


@cache
def function_names() -> tuple[str, ...]:
    """Each function's code folder under functions/ (its CodeUri), in template order: `api`, `dead_letter`, ..."""
    return tuple(spec.code_dir.name for spec in Template.load(TEMPLATE).functions.values())


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
