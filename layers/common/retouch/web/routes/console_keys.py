"""The console's API keys (GET/POST /keys, DELETE /keys/{key_id}): a signed-in person lists, creates and revokes their
account's keys. Console only: an API key or device token gets 403 `console_session_required` (a key cannot mint keys).
Served under /console/api by the console function."""

from dataclasses import dataclass

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from retouch.console.keys import create_account_key, list_account_keys, revoke_account_key
from retouch.models.console_routes import CreatedKey, CreateKeyRequest, KeyList, KeyView
from retouch.models.responses import ErrorBody
from retouch.ports import AccountRepository
from retouch.web.principal import current_console_user
from retouch.web.request_parsing import SMALL_JSON_BODY_BYTES, parse_json_body
from retouch.web.responses import UNAUTHORIZED, documented, json_response
from retouch.web.route_groups import RouteGroup

CONSOLE_ONLY = documented(ErrorBody, "Not a console session: an API key or device token (`console_session_required`)")


@dataclass(frozen=True)
class ConsoleKeyRoutes:
    accounts: AccountRepository  # the key items (by hash) and the account's revoked-key list


routes = RouteGroup(Router(), ConsoleKeyRoutes)
router = routes.router


@router.get("/keys", summary="The account's API keys", responses={
    200: documented(KeyList, "Every key, newest first, revoked ones included; never a secret"),
    401: UNAUTHORIZED, 403: CONSOLE_ONLY,
})
def list_keys() -> Response[KeyList]:
    caller = current_console_user()
    return json_response(list_account_keys(routes.deps().accounts, caller.account_id))


@router.post("/keys", summary="Create an API key (its secret shown once)", responses={
    201: documented(CreatedKey, "The new key; `key` is the secret, in this answer only"),
    400: documented(ErrorBody, "Missing or invalid `name`"),
    401: UNAUTHORIZED, 403: CONSOLE_ONLY,
    409: documented(ErrorBody, "The account holds as many active keys as it may (`key_limit_reached`)"),
    415: documented(ErrorBody, "Wrong content type"),
}, description="JSON `{\"name\": \"production\"}`. The secret is returned once and only its SHA-256 hash is kept.")
def create_key() -> Response[CreatedKey]:
    caller = current_console_user()
    request = parse_json_body(routes.event().raw_event, SMALL_JSON_BODY_BYTES, CreateKeyRequest)
    return json_response(create_account_key(routes.deps().accounts, caller.account_id, request.name), 201)


@router.delete("/keys/<key_id>", summary="Revoke an API key", responses={
    200: documented(KeyView, "The key, revoked: refused on every route within 30 s (the authorizer's cache)"),
    401: UNAUTHORIZED, 403: CONSOLE_ONLY,
    404: documented(ErrorBody, "No such key on this account (`key_not_found`)"),
})
def delete_key(key_id: str) -> Response[KeyView]:
    caller = current_console_user()
    return json_response(revoke_account_key(routes.deps().accounts, caller.account_id, key_id))
