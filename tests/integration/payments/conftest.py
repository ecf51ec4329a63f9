"""Payments integration fixtures: the real handlers and repositories on moto resources from template.yaml, with the
Stripe secret holding the Stripe stand-in's key and webhook secret and the payments function pointed at it."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from local.stand_ins.stripe_api import StripeStandIn
from tests.integration.core.aws_stack import Stack, client, running_stack

STAND_IN_KEY = "sk_test_integration"


@pytest.fixture(scope="module")
def stripe_stand_in() -> Iterator[StripeStandIn]:
    with StripeStandIn(api_key=STAND_IN_KEY, delay=0) as stand_in:
        yield stand_in


@pytest.fixture(scope="module")
def stack(_fake_aws_credentials: None, stripe_stand_in: StripeStandIn) -> Iterator[Stack]:
    with running_stack() as running:
        secret = running.environments["PaymentsFunction"]["RETOUCH_STRIPE_SECRET_ARN"]
        client("secretsmanager").put_secret_value(SecretId=secret, SecretString=json.dumps(
            {"secret_key": STAND_IN_KEY, "webhook_secret": stripe_stand_in.webhook_secret}))
        running.environments["PaymentsFunction"]["RETOUCH_STRIPE_API_BASE"] = stripe_stand_in.origin
        yield running
