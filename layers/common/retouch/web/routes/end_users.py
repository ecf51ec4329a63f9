"""The account's end users: limits and usage (GET/PUT /v1/end_users/{user}, GET /v1/end_users, GET/PUT
/v1/end_user_defaults) and erasure (DELETE /v1/end_users/{user}, GET /v1/erasures/{erasure_id}). Account key only."""

from dataclasses import dataclass
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from retouch.auth.standing import AccountReader, require_standing
from retouch.end_users.erasure import ErasureStart, erasure_status, start_erasure
from retouch.end_users.management import get_defaults, get_end_user, list_end_users, set_defaults, set_end_user_limits
from retouch.models.common import now_epoch
from retouch.models.end_users import EndUserDefaultsView, EndUserLimitsBody, EndUserList, EndUserView
from retouch.models.erasures import ErasureView
from retouch.models.responses import ErrorBody
from retouch.ports import EndUserStore
from retouch.web.end_user import end_user_param
from retouch.web.principal import current_caller
from retouch.web.request_parsing import parse_json_body
from retouch.web.responses import UNAUTHORIZED, documented, json_response
from retouch.web.route_groups import RouteGroup

MAX_BODY_BYTES = 16 * 1024


@dataclass(frozen=True)
class EndUserRoutes:
    end_users: EndUserStore
    erasure: ErasureStart
    accounts: AccountReader  # changes refuse a key revoked within the authorizer's cache (auth/standing.py)


routes = RouteGroup(Router(), EndUserRoutes)
router = routes.router

_FORBIDDEN = documented(ErrorBody, "A device token (`client_token_forbidden`): only the account's own key")
_BAD = documented(ErrorBody, "Invalid end user id, limits or cursor")


def _user(raw: str) -> str:
    return end_user_param(unquote(raw), "user")


@router.get("/v1/end_users", summary="The account's end users, highest total spend first", responses={
    200: documented(EndUserList, "One page; pass `next_cursor` as `after` for the next"),
    400: _BAD, 401: UNAUTHORIZED, 403: _FORBIDDEN,
}, description="Sorted by total settled spend (all time), highest first, ties by id descending; each with its limits "
               "and current usage. Only end users that made a request or were given limits are listed.")
def list_all() -> Response[EndUserList]:
    params = routes.event().query_string_parameters or {}
    return json_response(list_end_users(routes.deps().end_users, current_caller().account_id, params.get("limit"),
                                        params.get("after"), now_epoch()))


@router.get("/v1/end_users/<user>", summary="An end user's limits and current usage", responses={
    200: documented(EndUserView, "Limits (its own, the account's defaults or the system's) and usage now"),
    400: _BAD, 401: UNAUTHORIZED, 403: _FORBIDDEN,
})
def get_one(user: str) -> Response[EndUserView]:
    return json_response(get_end_user(routes.deps().end_users, current_caller().account_id, _user(user), now_epoch()))


@router.put("/v1/end_users/<user>", summary="Set an end user's limits", responses={
    200: documented(EndUserView, "The end user with its limits"),
    400: _BAD, 401: UNAUTHORIZED, 403: _FORBIDDEN, 415: documented(ErrorBody, "Wrong content type"),
}, description="JSON `{\"limits\": {requests_per_minute, images_per_day, usd_per_day, usd_per_month}}`; a limit left "
               "out keeps its current value. Applies to the next request (jobs in flight keep their holds).")
def put_one(user: str) -> Response[EndUserView]:
    deps, caller = routes.deps(), current_caller()
    require_standing(deps.accounts, caller.account_id, caller.key_id)
    body = parse_json_body(routes.event().raw_event, MAX_BODY_BYTES, EndUserLimitsBody)
    return json_response(set_end_user_limits(deps.end_users, caller.account_id, _user(user), body.limits,
                                             now_epoch()))


@router.get("/v1/end_user_defaults", summary="The limits of end users without their own", responses={
    200: documented(EndUserDefaultsView, "The account's defaults, or the system's when it set none"),
    401: UNAUTHORIZED, 403: _FORBIDDEN,
})
def get_default_limits() -> Response[EndUserDefaultsView]:
    return json_response(get_defaults(routes.deps().end_users, current_caller().account_id))


@router.put("/v1/end_user_defaults", summary="Set the limits of end users without their own", responses={
    200: documented(EndUserDefaultsView, "The account's defaults"),
    400: _BAD, 401: UNAUTHORIZED, 403: _FORBIDDEN, 415: documented(ErrorBody, "Wrong content type"),
})
def put_default_limits() -> Response[EndUserDefaultsView]:
    deps, caller = routes.deps(), current_caller()
    require_standing(deps.accounts, caller.account_id, caller.key_id)
    body = parse_json_body(routes.event().raw_event, MAX_BODY_BYTES, EndUserLimitsBody)
    return json_response(set_defaults(deps.end_users, caller.account_id, body.limits))


@router.delete("/v1/end_users/<user>", summary="Erase an end user's images", responses={
    202: documented(ErasureView, "Started (or already running): poll `GET /v1/erasures/{id}`"),
    400: _BAD, 401: UNAUTHORIZED, 403: _FORBIDDEN,
}, description="Deletes every input, output and upload of the end user and the webhook delivery records of their "
               "jobs, in batches that resume after any failure; queued jobs are canceled first and running ones "
               "erased when they end. Billing records (usage, ledger) stay, as for `DELETE /v1/jobs/{id}`.")
def erase(user: str) -> Response[ErasureView]:
    deps, caller = routes.deps(), current_caller()
    require_standing(deps.accounts, caller.account_id, caller.key_id)
    view = start_erasure(deps.erasure, caller.account_id, _user(user), now_epoch())
    return json_response(view, 202, {"Location": f"/v1/erasures/{view.id}"})


@router.get("/v1/erasures/<erasure_id>", summary="An end user's erasure: running or completed", responses={
    200: documented(ErasureView, "Its status and counts"),
    401: UNAUTHORIZED, 403: _FORBIDDEN, 404: documented(ErrorBody, "No such erasure (`erasure_not_found`)"),
})
def get_erasure(erasure_id: str) -> Response[ErasureView]:
    return json_response(erasure_status(routes.deps().erasure, current_caller().account_id, erasure_id))
