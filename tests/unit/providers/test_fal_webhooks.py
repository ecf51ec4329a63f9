"""fal's webhook signatures (providers/fal_webhooks.py), checked as fal documents, with a JWKS served over
httpx.MockTransport: signed calls pass, anything altered, stale or unsigned does not, and the keys are fetched once."""

from __future__ import annotations

import base64
import hashlib
import json

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from retouch.providers.fal_webhooks import CallbackNotAuthentic, FalWebhookVerifier

NOW = 1_800_000_000
BODY = b'{"request_id": "req-1", "status": "OK", "payload": {"images": []}}'


def jwk(key: Ed25519PrivateKey) -> dict[str, str]:
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": base64.urlsafe_b64encode(raw).rstrip(b"=").decode()}


def signed(key: Ed25519PrivateKey, body: bytes = BODY, *, request_id: str = "req-1", at: int = NOW) -> dict[str, str]:
    message = "\n".join((request_id, "user-1", str(at), hashlib.sha256(body).hexdigest())).encode()
    return {"X-Fal-Webhook-Request-Id": request_id, "X-Fal-Webhook-User-Id": "user-1",
            "X-Fal-Webhook-Timestamp": str(at), "X-Fal-Webhook-Signature": key.sign(message).hex()}


def verifier_for(*keys: Ed25519PrivateKey) -> tuple[FalWebhookVerifier, list[httpx.Request]]:
    fetched: list[httpx.Request] = []

    def jwks(request: httpx.Request) -> httpx.Response:
        fetched.append(request)
        return httpx.Response(200, content=json.dumps({"keys": [jwk(k) for k in keys]}))

    client = httpx.Client(transport=httpx.MockTransport(jwks))
    return FalWebhookVerifier(jwks_url="https://keys.test/jwks.json", client=client, clock=lambda: NOW), fetched


def test_a_call_fal_signed_gives_its_request_id_and_the_keys_are_fetched_once() -> None:
    fal = Ed25519PrivateKey.generate()
    verifier, fetched = verifier_for(Ed25519PrivateKey.generate(), fal)  # fal's second key signed it
    assert verifier.verify(signed(fal), BODY) == "req-1"
    assert verifier.verify(signed(fal, request_id="req-2"), BODY) == "req-2"
    assert len(fetched) == 1


@pytest.mark.parametrize(("headers", "body"), [
    pytest.param(signed(Ed25519PrivateKey.generate()), BODY, id="another-key"),
    pytest.param({**signed(Ed25519PrivateKey.generate()), "X-Fal-Webhook-Signature": "zz"}, BODY, id="not-hex"),
    pytest.param({}, BODY, id="unsigned"),
])
def test_calls_fal_did_not_sign_are_refused(headers: dict[str, str], body: bytes) -> None:
    verifier, _ = verifier_for(Ed25519PrivateKey.generate())
    with pytest.raises(CallbackNotAuthentic):
        verifier.verify(headers, body)


def test_an_altered_body_or_a_stale_timestamp_is_refused() -> None:
    fal = Ed25519PrivateKey.generate()
    verifier, _ = verifier_for(fal)
    with pytest.raises(CallbackNotAuthentic):
        verifier.verify(signed(fal), BODY.replace(b"OK", b"KO"))
    with pytest.raises(CallbackNotAuthentic):
        verifier.verify(signed(fal, at=NOW - 301), BODY)
