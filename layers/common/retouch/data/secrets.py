"""The provider's API key and Stripe's keys from Secrets Manager, through Powertools Parameters (cached 5 min)."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import ValidationError

from retouch.data.clients import aws_client
from retouch.models.payments import StripeKeys


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


def stripe_keys(secret_arn: str) -> StripeKeys:
    """The Stripe secret's JSON: `secret_key` (sk_test_… / sk_live_… or a restricted key) and `webhook_secret`."""
    value = _provider().get(secret_arn, max_age=300, transform="json")
    try:
        return StripeKeys.model_validate(value)
    except ValidationError:
        # Never echo the value: it is the key.
        raise ValueError(f"the Stripe secret {secret_arn} is not JSON with secret_key and webhook_secret") from None
