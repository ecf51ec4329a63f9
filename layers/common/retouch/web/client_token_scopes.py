"""What a device token (auth/client_tokens.py) may reach: each route a phone needs, and the scope it takes. Every
other route, including every route added later, answers a device token 403 `client_token_forbidden`."""

from __future__ import annotations

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
