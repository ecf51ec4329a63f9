"""POST /v1/upstream-callbacks/{upstream}/{job_id}: an upstream saying a job is done (fal's webhooks). No API key:
the upstream's own signature authenticates the call (jobs/upstream_callbacks.py); it only wakes the job."""

import base64
import json
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from retouch.jobs.upstream_callbacks import CallbackDeps, wake_on_callback
from retouch.models.responses import ErrorBody
from retouch.web.responses import documented
from retouch.web.route_groups import RouteGroup


@dataclass(frozen=True)
class UpstreamCallbackRoutes:
    callbacks: CallbackDeps


routes = RouteGroup(Router(), UpstreamCallbackRoutes)
router = routes.router


@router.post("/v1/upstream-callbacks/<upstream>/<job_id>", summary="An upstream's callback (fal webhooks)",
             responses={200: documented(dict[str, Any], "`{\"woke\": true}` when the job was waiting on it"),
                        403: documented(ErrorBody, "`callback_not_authentic`: the signature does not hold"),
                        404: documented(ErrorBody, "No callbacks from this upstream")},
             description="Called by upstreams, not by clients: authenticated by the upstream's own signature.",
             openapi_extensions={"security": []})  # no key: see retouch/web/principal.py PUBLIC_ROUTES
def upstream_callback(upstream: str, job_id: str) -> Response[Any]:
    event = routes.event()
    raw = event.raw_event.get("body") or ""
    body = base64.b64decode(raw) if event.raw_event.get("isBase64Encoded") else raw.encode()
    woke = wake_on_callback(upstream, job_id, dict(event.headers), body, routes.deps().callbacks)
    return Response(status_code=200, content_type="application/json", body=json.dumps({"woke": woke}))
