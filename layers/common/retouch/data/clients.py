"""boto3 clients, built lazily once per process (cold starts pay only for the services a function uses)."""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def aws_client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=3,
        read_timeout=15,
        signature_version="s3v4" if service == "s3" else None,
    )
    return boto3.client(service, config=config)
