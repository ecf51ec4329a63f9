"""POST /v1/client_tokens, GET and DELETE /v1/client_tokens/{token_id}: device tokens an app backend mints for its
end users' devices (auth/client_tokens.py). Account key only."""

from dataclasses import dataclass

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from retouch.auth.standing import AccountReader, require_standing
from retouch.end_users.device_tokens import get_client_token, mint_client_token, revoke_client_token
from retouch.models.client_tokens import ClientTokenRequest, ClientTokenView
from retouch.models.common import now_epoch
from retouch.models.responses import ErrorBody
from retouch.ports import ClientTokenStore
from retouch.web.principal import current_caller
from retouch.web.request_parsing import parse_json_body
from retouch.web.responses import UNAUTHORIZED, documented, json_response
from retouch.web.route_groups import RouteGroup

MAX_BODY_BYTES = 16 * 1024


@dataclass(frozen=True)
class ClientTokenRoutes:
    tokens: ClientTokenStore
    accounts: AccountReader


routes = RouteGroup(Router(), ClientTokenRoutes)
router = routes.router

_FORBIDDEN = documented(ErrorBody, "A device token (`client_token_forbidden`): only the account's own key")
_NOT_FOUND = documented(ErrorBody, "No such device token for this account (`client_token_not_found`)")


@router.post("/v1/client_tokens", summary="Mint a device token for one end user", responses={
    201: documented(ClientTokenView, "The token (shown only now) and what it may do"),
    400: documented(ErrorBody, "Invalid user, scopes, spend cap or expires_in"),
    401: UNAUTHORIZED, 403: _FORBIDDEN, 415: documented(ErrorBody, "Wrong content type"),
}, description="JSON `{user, scopes, spend_cap_usd, expires_in?}` (`expires_in` 60-3600 s, default 900). Scopes: "
               "`uploads:create`, `images:edit`, `images:generate`, `jobs:read`, `jobs:cancel`. The device uses it as "
               "its API key; it reaches only those routes, only its end user's jobs, within the spend cap.")
def mint() -> Response[ClientTokenView]:
    deps, caller = routes.deps(), current_caller()
    require_standing(deps.accounts, caller.account_id, caller.key_id)
    request = parse_json_body(routes.event().raw_event, MAX_BODY_BYTES, ClientTokenRequest)
    view = mint_client_token(caller.account_id, request, deps.tokens, now_epoch())
    return json_response(view, 201, {"Cache-Control": "no-store"})


@router.get("/v1/client_tokens/<token_id>", summary="A device token (never its secret)", responses={
    200: documented(ClientTokenView, "What it may do, what it has committed, whether it is revoked"),
    401: UNAUTHORIZED, 403: _FORBIDDEN, 404: _NOT_FOUND,
})
def get_one(token_id: str) -> Response[ClientTokenView]:
    return json_response(get_client_token(current_caller().account_id, token_id, routes.deps().tokens))


@router.delete("/v1/client_tokens/<token_id>", summary="Revoke a device token", responses={
    200: documented(ClientTokenView, "Revoked: submits are refused at once, other routes within 30 s"),
    401: UNAUTHORIZED, 403: _FORBIDDEN, 404: _NOT_FOUND,
})
def revoke(token_id: str) -> Response[ClientTokenView]:
    deps, caller = routes.deps(), current_caller()
    require_standing(deps.accounts, caller.account_id, caller.key_id)
    return json_response(revoke_client_token(caller.account_id, token_id, deps.tokens, now_epoch()))
