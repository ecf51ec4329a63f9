"""boto3 clients, built lazily once per process (cold starts pay only for the services a function uses).

A client, once built, is shared by threads (the worker runs a batch's records at once), which boto3 allows; building
clients is not thread-safe (the default session's lazily loaded components), so they are built one at a time. Two
threads missing the cache together each build one, in turn; the cache keeps one.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Any, Literal

from retouch.retry import AWS_SDK_MAX_ATTEMPTS, AWS_SDK_RETRY_MODE

# The services the functions call; naming them lets boto3-stubs pick the client (the data layer keeps them as Any).
AwsService = Literal["dynamodb", "s3", "sqs", "secretsmanager", "ses", "cognito-idp"]

_building = threading.Lock()


@cache
def aws_client(service: AwsService) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"mode": AWS_SDK_RETRY_MODE, "max_attempts": AWS_SDK_MAX_ATTEMPTS},
        connect_timeout=3,
        read_timeout=15,
        signature_version="s3v4" if service == "s3" else None,
        # Presigned URLs on the bucket's regional name (bucket.s3.<region>.amazonaws.com): the global one is
        # redirected (307) for a new bucket outside us-east-1 and unknown to newer regions. An IP endpoint (the
        # local stack's) still gets path-style URLs.
        s3={"addressing_style": "virtual"} if service == "s3" else None,
    )
    with _building:
        return boto3.client(service, config=config)
