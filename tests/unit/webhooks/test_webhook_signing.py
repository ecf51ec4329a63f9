"""Signatures as any Standard Webhooks library verifies them, including during a secret rotation."""

from __future__ import annotations

import base64
import time

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from retouch.webhooks.signing import generate_secret, secret_key, signature, signed_headers


def test_generated_secrets_are_whsec_with_32_random_bytes():
    # Given / When two generated secrets
    first, second = generate_secret(), generate_secret()
    # Then both are Standard Webhooks secrets, and different
    assert first.startswith("whsec_") and first != second
    assert len(base64.b64decode(first.removeprefix("whsec_"))) == 32


def test_the_standardwebhooks_library_verifies_our_signature():
    # Given a secret and a body
    secret, body = generate_secret(), b'{"type":"job.succeeded","id":"evt_1","data":{"caf\xc3\xa9":1}}'
    # When we sign an attempt now
    headers = signed_headers([secret], "evt_1", int(time.time()), body)
    # Then the library verifies it, and it is `v1,` + base64 HMAC-SHA256
    assert Webhook(secret).verify(body, headers)["id"] == "evt_1"
    assert headers["webhook-signature"].startswith("v1,")


def test_a_different_secret_or_a_changed_body_does_not_verify():
    secret, body = generate_secret(), b'{"a":1}'
    headers = signed_headers([secret], "evt_2", int(time.time()), body)
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(b'{"a":2}', headers)


def test_during_a_rotation_both_secrets_verify_the_same_request():
    # Given the new and the old secret, both active
    new, old = generate_secret(), generate_secret()
    body = b'{"id":"evt_3"}'
    # When an attempt is signed with both
    headers = signed_headers([new, old], "evt_3", int(time.time()), body)
    # Then there are two space-separated signatures and a receiver holding either secret verifies
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(new).verify(body, headers)
    Webhook(old).verify(body, headers)


def test_signature_matches_the_library_sign_exactly():
    from datetime import UTC, datetime

    secret, body = generate_secret(), b'{"x":true}'
    expected = Webhook(secret).sign("evt_4", datetime.fromtimestamp(1_700_000_000, UTC), body.decode())
    assert signature(secret, "evt_4", 1_700_000_000, body) == expected


def test_secrets_without_the_prefix_or_without_any_key_are_refused():
    with pytest.raises(ValueError):
        secret_key("abc")
    with pytest.raises(ValueError):
        signed_headers([], "evt", 1, b"{}")
