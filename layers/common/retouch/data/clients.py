"""boto3 clients, built lazily once per process (cold starts pay only for the services a function uses)."""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

# The services the functions call; naming them lets boto3-stubs pick the client (the data layer keeps them as Any).
AwsService = Literal["dynamodb", "s3", "sqs", "secretsmanager"]


@cache
def aws_client(service: AwsService) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=3,
        read_timeout=15,
        signature_version="s3v4" if service == "s3" else None,
        # Presigned URLs on the bucket's regional name (bucket.s3.<region>.amazonaws.com): the global one is
        # redirected (307) for a new bucket outside us-east-1 and unknown to newer regions. An IP endpoint (the
        # local stack's) still gets path-style URLs.
        s3={"addressing_style": "virtual"} if service == "s3" else None,
    )
    return boto3.client(service, config=config)
