"""A function's process environment, as Lambda sets it: its template variables, the AWS endpoint, AWS_LAMBDA_*.

From the developer's shell only what a process needs to run passes through; the AWS variables point at the
emulation (local.aws), never at a real account.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from local import REPO_ROOT
from local.aws import LOCAL_CREDENTIAL
from local.cloudformation.intrinsics import ACCOUNT_ID, REGION
from local.cloudformation.template import FunctionSpec

# From the developer's shell, only what a process needs to run and to reach the real provider
# through a proxy; everything else (AWS profiles, OPENAI_API_KEY, RETOUCH_*) stays out, as in Lambda.
_PASSTHROUGH = ("PATH", "HOME", "LANG", "TMPDIR", "SYSTEMROOT", "SSL_CERT_FILE", "SSL_CERT_DIR",
                "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "RETOUCH_LOCAL_PROFILE_DIR")
_LOOPBACK = "127.0.0.1,localhost"


def aws_environment(endpoint_url: str) -> dict[str, str]:
    """What every boto3 client of the stack needs to reach the emulation (and nothing real)."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": LOCAL_CREDENTIAL,
        "AWS_SECRET_ACCESS_KEY": LOCAL_CREDENTIAL,
        # Keep a developer's ~/.aws (profiles, SSO, endpoint overrides) out of the local stack.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }


def base_environment() -> dict[str, str]:
    env = {key: os.environ[key] for key in _PASSTHROUGH if key in os.environ}
    no_proxy = os.environ.get("NO_PROXY") or os.environ.get("no_proxy")
    env["NO_PROXY"] = f"{no_proxy},{_LOOPBACK}" if no_proxy else _LOOPBACK
    env["PYTHONUNBUFFERED"] = "1"  # line-by-line output for the console prefixing
    return env


def lambda_environment(
    spec: FunctionSpec,
    template_variables: Mapping[str, str],
    *,
    function_name: str,
    aws_endpoint_url: str,
    runtime: str = "python3.13",
) -> dict[str, str]:
    """The process environment of one function: its template variables plus what Lambda itself sets."""
    env = base_environment()
    env.update(template_variables)
    env.update(aws_environment(aws_endpoint_url))
    env.update({
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": f"local/[$LATEST]{spec.short_name}",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{runtime}",
        "LAMBDA_TASK_ROOT": str(spec.code_dir),
        "TZ": "UTC",
        # boto3 adds `app/<name>` to its User-Agent: the bench tells which function made each recorded AWS request.
        # Behaviour is unchanged (AWS accepts the same variable); only the header names its caller.
        "AWS_SDK_UA_APP_ID": spec.short_name,
        # What `sam local` sets: Powertools then skips X-Ray (there is no daemon to send traces to).
        "AWS_SAM_LOCAL": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "RETOUCH_LOCAL_FUNCTION_ARN": f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function_name}",
        # Only so `-m local.lambdas.function_runtime` imports; the host drops it from sys.path before the handler loads.
        "PYTHONPATH": str(REPO_ROOT),
    })
    return env
