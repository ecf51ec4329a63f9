"""The console's webhook settings (GET/PUT /webhooks, POST /webhooks/rotate_secret) and delivery log
(GET /webhooks/deliveries): the account's default URL, its signing secrets (each shown once) and the latest delivery
attempts of its jobs. Console only (403 `console_session_required` for keys). Redelivering a job's event is the public
`POST /v1/jobs/{job_id}/webhooks/redeliver`, mounted by the console function as it is."""

from dataclasses import dataclass
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from retouch.console.webhook_settings import rotate_webhook_secret, set_webhook_url, webhook_settings
from retouch.models.console_routes import DeliveryLog, RotatedSecret, WebhookSettingsRequest, WebhookSettingsView
from retouch.models.responses import ErrorBody
from retouch.ports import AccountJobs, WebhookSettingsRepository
from retouch.web.principal import current_console_user
from retouch.web.request_parsing import SMALL_JSON_BODY_BYTES, parse_json_body
from retouch.web.responses import UNAUTHORIZED, documented, json_response
from retouch.web.route_groups import RouteGroup
from retouch.web.routes.console_keys import CONSOLE_ONLY
from retouch.webhooks.deliveries import MAX_DELIVERIES_LISTED, recent_deliveries


@dataclass(frozen=True)
class ConsoleWebhookRoutes:
    settings: WebhookSettingsRepository
    account_jobs: AccountJobs  # the delivery log is read from the jobs' own logs
    allowlist: frozenset[str]  # hosts a plain-http default URL may name (the deployment's UrlAllowlist)


routes = RouteGroup(Router(), ConsoleWebhookRoutes)
router = routes.router


@router.get("/webhooks", summary="The account's webhook settings", responses={
    200: documented(WebhookSettingsView, "The default URL and the signing secrets' lifetimes (never their values)"),
    401: UNAUTHORIZED, 403: CONSOLE_ONLY,
})
def get_settings() -> Response[WebhookSettingsView]:
    caller = current_console_user()
    return json_response(webhook_settings(routes.deps().settings, caller.account_id))


@router.put("/webhooks", summary="Set the account's default webhook URL", responses={
    200: documented(WebhookSettingsView, "The settings; `secret` when this created the account's first signing "
                                         "secret (shown once)"),
    400: documented(ErrorBody, "Not an https URL with a host (`invalid_webhook_url`), or an invalid body"),
    401: UNAUTHORIZED, 403: CONSOLE_ONLY,
    415: documented(ErrorBody, "Wrong content type"),
}, description="JSON `{\"url\": \"https://example.com/hooks\"}`; `null` clears it. Jobs that name no `webhook_url` "
               "send their events here, as do the account's own events (low balance, failed recharge).")
def put_settings() -> Response[WebhookSettingsView]:
    caller = current_console_user()
    deps = routes.deps()
    request = parse_json_body(routes.event().raw_event, SMALL_JSON_BODY_BYTES, WebhookSettingsRequest)
    return json_response(set_webhook_url(deps.settings, caller.account_id, request.url, allowlist=deps.allowlist))


@router.post("/webhooks/rotate_secret", summary="Rotate the webhook signing secret", responses={
    200: documented(RotatedSecret, "The new secret (shown once); the old ones sign beside it until "
                                   "`previous_expires_at`"),
    401: UNAUTHORIZED, 403: CONSOLE_ONLY,
})
def rotate_secret() -> Response[RotatedSecret]:
    caller = current_console_user()
    return json_response(rotate_webhook_secret(routes.deps().settings, caller.account_id))


@router.get("/webhooks/deliveries", summary="The latest webhook deliveries of the account's jobs", responses={
    200: documented(DeliveryLog, "Attempts across the account's 100 newest jobs, newest first"),
    400: documented(ErrorBody, "Invalid limit"),
    401: UNAUTHORIZED, 403: CONSOLE_ONLY,
})
def list_deliveries(
    limit: Annotated[int, Query(ge=1, le=MAX_DELIVERIES_LISTED, description="Attempts to list")] = 50,
) -> Response[DeliveryLog]:
    caller = current_console_user()
    return json_response(recent_deliveries(routes.deps().account_jobs, caller.account_id, limit))
