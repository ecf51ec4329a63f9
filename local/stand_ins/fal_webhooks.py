"""fal's webhooks, as the fal stand-in sends them: when a queue request submitted with `?fal_webhook=URL` is done,
fal POSTs `{"request_id", "gateway_request_id", "status": "OK" | "ERROR", "payload", "error"}` to URL, signed as fal
documents: Ed25519 over the request id, the user id, the timestamp and the hex SHA-256 of the body, joined by
newlines, in `X-Fal-Webhook-{Request-Id,User-Id,Timestamp,Signature}`; the public key is served as a JWKS (at
JWKS_PATH on the stand-in), as fal serves its own.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import threading
import time
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

JWKS_PATH = "/.well-known/jwks.json"
USER_ID = "local-fal-user"
SEND_TIMEOUT_SECONDS = 30  # the receiver may be cold-starting


class WebhookSigner:
    def __init__(self) -> None:
        self._key = Ed25519PrivateKey.generate()
        self.answers: dict[str, tuple[int, str]] = {}  # request id -> the receiver's status and body (tests read it)
        self.sent_at: dict[str, float] = {}  # request id -> when the webhook was sent (time.time())

    def jwks(self) -> dict[str, Any]:
        raw = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        return {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "local-fal", "use": "sig"}]}

    def headers(self, request_id: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        sent_at = str(int(time.time()) if timestamp is None else timestamp)
        message = "\n".join((request_id, USER_ID, sent_at, hashlib.sha256(body).hexdigest())).encode()
        return {"Content-Type": "application/json", "X-Fal-Webhook-Request-Id": request_id,
                "X-Fal-Webhook-User-Id": USER_ID, "X-Fal-Webhook-Timestamp": sent_at,
                "X-Fal-Webhook-Signature": self._key.sign(message).hex()}

    def send_later(self, url: str, request_id: str, outcome: dict[str, Any], delay: float) -> None:
        """POST the webhook once the request is done (`delay` from now), on a thread of its own."""
        timer = threading.Timer(max(0.0, delay), self._send, args=(url, request_id, outcome))
        timer.daemon = True
        timer.start()

    def _send(self, url: str, request_id: str, outcome: dict[str, Any]) -> None:
        body = json.dumps({"request_id": request_id, "gateway_request_id": request_id, **outcome}).encode()
        self.sent_at[request_id] = time.time()
        try:
            answer = httpx.post(url, content=body, headers=self.headers(request_id, body), timeout=SEND_TIMEOUT_SECONDS)
            self.answers[request_id] = (answer.status_code, answer.text)
        except httpx.HTTPError as exc:  # fal retries; here the job's polls are the fallback
            sys.stderr.write(f"fal stand-in: webhook to {url} failed: {exc}\n")
