"""fal's webhooks, authenticated as fal documents (docs.fal.ai, "Webhooks", "Verifying your webhook").

fal POSTs a finished queue request's result to the `fal_webhook` URL given at submit, with four headers:
`X-Fal-Webhook-Request-Id`, `X-Fal-Webhook-User-Id`, `X-Fal-Webhook-Timestamp` (epoch seconds) and
`X-Fal-Webhook-Signature` (hex). The signed message is the request id, the user id, the timestamp and the hex SHA-256
of the raw body, joined by newlines; the signature is Ed25519 by one of the keys in fal's JWKS
(`https://rest.alpha.fal.ai/.well-known/jwks.json`, `OKP`/`Ed25519` keys, `x` base64url), which is fetched at most
once a day per environment (and again at once when no key verifies, in case fal rotated them). A timestamp more than
5 minutes from now is refused, so a captured call cannot be replayed later.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from retouch.providers.base import ProviderError
from retouch.providers.ed25519 import verify
from retouch.providers.upstream_http import UpstreamHttp

JWKS_URL = "https://rest.alpha.fal.ai/.well-known/jwks.json"
JWKS_CACHE_SECONDS = 24 * 3600
TIMESTAMP_LEEWAY_SECONDS = 300
JWKS_TIMEOUT_SECONDS = 5.0
_HEADERS = ("x-fal-webhook-request-id", "x-fal-webhook-user-id", "x-fal-webhook-timestamp",
            "x-fal-webhook-signature")


class CallbackNotAuthentic(ProviderError):
    """The call is not one fal signed (or not now): it must not move any job."""


class FalWebhookVerifier:
    def __init__(self, *, jwks_url: str = JWKS_URL, client: httpx.Client | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self._jwks_url = jwks_url
        self._http = UpstreamHttp("fal", timeout_seconds=JWKS_TIMEOUT_SECONDS, client=client)
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: list[bytes] = []
        self._fetched_at: float | None = None

    def verify(self, headers: Mapping[str, str], body: bytes) -> str:
        """The fal request id the call is about, once its signature and timestamp hold; CallbackNotAuthentic
        otherwise."""
        lowered = {name.lower(): value for name, value in headers.items()}
        request_id, user_id, timestamp, signature = (lowered.get(name, "") for name in _HEADERS)
        if not (request_id and user_id and timestamp and signature):
            raise CallbackNotAuthentic("callback_not_authentic", "the fal webhook headers are missing")
        try:
            sent_at = int(timestamp)
            signed = bytes.fromhex(signature)
        except ValueError:
            raise CallbackNotAuthentic("callback_not_authentic", "the fal webhook headers are malformed") from None
        if abs(self._clock() - sent_at) > TIMESTAMP_LEEWAY_SECONDS:
            raise CallbackNotAuthentic("callback_not_authentic", "the fal webhook's timestamp is too far from now")
        message = "\n".join((request_id, user_id, timestamp, hashlib.sha256(body).hexdigest())).encode()
        if any(verify(key, message, signed) for key in self._public_keys(refresh=False)):
            return request_id
        if any(verify(key, message, signed) for key in self._public_keys(refresh=True)):
            return request_id
        raise CallbackNotAuthentic("callback_not_authentic", "the fal webhook's signature does not verify")

    def _public_keys(self, *, refresh: bool) -> list[bytes]:
        with self._lock:
            now = self._clock()
            stale = self._fetched_at is None or now - self._fetched_at > JWKS_CACHE_SECONDS
            if stale or (refresh and now - (self._fetched_at or 0) > 60):  # a refetch at most once a minute
                self._keys = _keys_of(self._http.send_json("GET", self._jwks_url))
                self._fetched_at = now
            return list(self._keys)


def _keys_of(jwks: dict[str, Any]) -> list[bytes]:
    keys = []
    for key in jwks.get("keys") or []:
        if isinstance(key, dict) and key.get("kty") == "OKP" and key.get("crv") == "Ed25519" \
                and isinstance(key.get("x"), str):
            encoded = key["x"]
            keys.append(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    return keys
