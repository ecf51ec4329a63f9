"""The provider's API key from Secrets Manager, through Powertools Parameters (cached for 5 minutes)."""

from __future__ import annotations

from functools import cache
from typing import Any

from retouch.data.clients import aws_client


@cache
def _provider() -> Any:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return SecretsProvider(boto3_client=aws_client("secretsmanager"))


def secret_value(secret_arn: str) -> str:
    """A secret's string (the provider's API key, the sync entry's edge header value)."""
    value = _provider().get(secret_arn, max_age=300)
    return value.decode() if isinstance(value, bytes) else str(value)


def provider_api_key(secret_arn: str) -> str:
    return secret_value(secret_arn)
