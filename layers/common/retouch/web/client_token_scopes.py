"""What a device token (auth/client_tokens.py) may reach: each route a phone needs, and the scope it takes. Every
other route, including every route added later, answers a device token 403 `client_token_forbidden`."""

from __future__ import annotations

from collections.abc import Collection

from retouch.errors import ClientTokenForbidden
from retouch.models.client_tokens import Scope

# (method, path as template.yaml declares it) -> the scope it needs. The job routes also see only the token's own
# end user's jobs (web/routes/jobs.py, jobs/cancel.py).
DEVICE_ROUTES: dict[tuple[str, str], Scope] = {
    ("POST", "/v1/uploads"): "uploads:create",
    ("POST", "/v1/images/edits"): "images:edit",
    ("POST", "/v1/images/generations"): "images:generate",
    ("GET", "/v1/jobs"): "jobs:read",
    ("GET", "/v1/jobs/{job_id}"): "jobs:read",
    ("POST", "/v1/jobs/{job_id}/cancel"): "jobs:cancel",
}

# What a device token may not set on a submit, though the route is in its scopes: where the account's signed job
# events go and which are sent (a phone could redirect them, or mute the backend's default webhook with []), and
# metadata, which the backend may trust as its own.
ACCOUNT_ONLY_FIELDS: tuple[str, ...] = ("webhook_url", "webhook_events", "metadata")


def refuse_account_only_fields(given: Collection[str]) -> None:
    """403 `client_token_forbidden` naming the first account-only field a device token's request `given` sets."""
    for name in ACCOUNT_ONLY_FIELDS:
        if name in given:
            raise ClientTokenForbidden(f"A device token cannot set '{name}': only the account's own API key may.",
                                       param=name)
