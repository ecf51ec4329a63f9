"""The Stripe adapter's signature check is Stripe's own library: a payload signed with the webhook secret within the
tolerance verifies; another secret, an altered body, an old timestamp or no header does not. A secret that still holds
the template's placeholder (or nothing) verifies nothing and asks Stripe nothing: payments are not configured."""

from __future__ import annotations

import json
import time

import pytest

from local.stand_ins.stripe_api import sign
from retouch.models.payments import CheckoutRequest, OffSessionPayment, StripeKeys
from retouch.payments.ports import GatewayNotConfigured, SignatureRejected
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


# What the template's StripeSecret holds until the operator puts real keys in it, and its near relations.
UNSET = [
    ("replace-me", "replace-me"),
    ("sk_test_unit", "replace-me"),
    ("sk_test_unit", " CHANGEME "),
    ("sk_test_unit", ""),
    ("replace-me", SECRET),
    ("", SECRET),
]
UNSET_IDS = ["template-default", "webhook-placeholder", "webhook-changeme", "webhook-empty", "key-placeholder",
             "key-empty"]


def unset_gateway(secret_key: str, webhook_secret: str) -> StripeGateway:
    return StripeGateway(lambda: StripeKeys(secret_key=secret_key, webhook_secret=webhook_secret))


@pytest.mark.parametrize(("secret_key", "webhook_secret"), UNSET, ids=UNSET_IDS)
def test_unset_keys_verify_nothing_even_an_event_signed_with_the_placeholder(secret_key: str,
                                                                             webhook_secret: str) -> None:
    # Given the Stripe secret as the template ships it (or half set), and an event signed with that very value
    signature = sign(BODY, webhook_secret, int(time.time()))

    # Then the gateway refuses to verify it: not configured, never "verified"
    with pytest.raises(GatewayNotConfigured):
        unset_gateway(secret_key, webhook_secret).verified_event(BODY, signature)


@pytest.mark.parametrize(("secret_key", "webhook_secret"), UNSET, ids=UNSET_IDS)
def test_unset_keys_ask_stripe_nothing(secret_key: str, webhook_secret: str) -> None:
    # Given unset keys (the unit tier has no network: a call to Stripe would fail otherwise)
    gateway = unset_gateway(secret_key, webhook_secret)

    # Then a Checkout Session, an off-session charge and the plain check are refused as not configured
    with pytest.raises(GatewayNotConfigured):
        gateway.create_checkout_session(CheckoutRequest(account_id="acct_1", amount_minor=500, currency="usd",
                                                        success_url="https://e.test/ok",
                                                        cancel_url="https://e.test/no"))
    with pytest.raises(GatewayNotConfigured):
        gateway.charge_off_session(OffSessionPayment(account_id="acct_1", claim="c1", amount_minor=500,
                                                     currency="usd", customer_id="cus_1", payment_method_id="pm_1"))
    with pytest.raises(GatewayNotConfigured):
        gateway.ensure_configured()


def test_real_looking_keys_are_configured() -> None:
    gateway().ensure_configured()


def test_stripe_keys_are_configured_only_with_both_set() -> None:
    assert StripeKeys(secret_key="sk_test_1", webhook_secret="whsec_1").configured
    assert not StripeKeys(secret_key="replace-me", webhook_secret="replace-me").configured
    assert not StripeKeys(secret_key="sk_test_1", webhook_secret="").configured
    assert not StripeKeys(secret_key="none", webhook_secret="whsec_1").configured
