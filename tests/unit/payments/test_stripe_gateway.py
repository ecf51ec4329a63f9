"""The Stripe adapter's signature check is Stripe's own library: a payload signed with the webhook secret within the
tolerance verifies; another secret, an altered body, an old timestamp or no header does not."""

from __future__ import annotations

import json
import time

import pytest

from local.stand_ins.stripe_api import sign
from retouch.models.payments import StripeKeys
from retouch.payments.ports import SignatureRejected
from retouch.payments.stripe_gateway import SIGNATURE_TOLERANCE_SECONDS, StripeGateway

SECRET = "whsec_unit_secret"
BODY = json.dumps({"id": "evt_1", "type": "charge.succeeded", "data": {"object": {}}}).encode()


def gateway() -> StripeGateway:
    return StripeGateway(lambda: StripeKeys(secret_key="sk_test_unit", webhook_secret=SECRET))


def test_a_payload_signed_now_with_the_secret_verifies() -> None:
    assert gateway().verified_event(BODY, sign(BODY, SECRET, int(time.time())))["id"] == "evt_1"


@pytest.mark.parametrize("header", [
    sign(BODY, "whsec_other", int(time.time())),
    sign(BODY + b" ", SECRET, int(time.time())),
    sign(BODY, SECRET, int(time.time()) - SIGNATURE_TOLERANCE_SECONDS - 60),
    None, "", "t=x,v1=y",
], ids=["another-secret", "altered-body", "too-old", "no-header", "empty", "malformed"])  # stable ids: xdist collects
def test_anything_else_is_rejected(header: str | None) -> None:
    with pytest.raises(SignatureRejected):
        gateway().verified_event(BODY, header)
