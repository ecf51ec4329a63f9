"""The operator's console routes (operator role only; a member gets 403 `operator_only`, an API key 403
`console_session_required`): every account with its balance and recent spend, credit adjustments with a reason
(an Idempotency-Key required), the margin by model and upstream over time, and upstream health (breakers and
alarm links)."""

from dataclasses import dataclass
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from retouch.billing.accounts_overview import account_summaries
from retouch.billing.adjustments import adjust_credit
from retouch.billing.margin import cost_estimates, margin_report
from retouch.billing.money import MICROS_PER_USD
from retouch.jobs.idempotency import HEADER, REPLAYED_HEADER, required_key
from retouch.models.common import now_epoch
from retouch.models.console_routes import (
    AccountSummaryPage,
    CreditAdjustmentRequest,
    CreditAdjustmentView,
    MarginReport,
    UpstreamHealthReport,
)
from retouch.models.responses import ErrorBody
from retouch.ports import AccountDirectory, CreditLedger, JobHistory
from retouch.routing.document import RoutingDocument
from retouch.routing.health import AlarmConsole, BreakerReader, upstream_health
from retouch.web.principal import current_operator
from retouch.web.request_parsing import SMALL_JSON_BODY_BYTES, parse_json_body
from retouch.web.responses import UNAUTHORIZED, documented, json_response
from retouch.web.route_groups import RouteGroup

OPERATOR_ONLY = documented(ErrorBody, "Not an operator (`operator_only`), or not a console session "
                                      "(`console_session_required`)")


@dataclass(frozen=True)
class OperatorRoutes:
    directory: AccountDirectory  # every account (an index: no function scans the table)
    credits: CreditLedger  # credit adjustments and their entries
    account_jobs: JobHistory  # spend and margin are summed from the accounts' jobs
    breakers: BreakerReader
    routing: RoutingDocument  # the upstreams, their breaker policies and cost estimates
    alarms: AlarmConsole


routes = RouteGroup(Router(), OperatorRoutes)
router = routes.router

Day = Annotated[str | None, Query(description="A UTC day, YYYY-MM-DD, or unix seconds; inclusive", max_length=32,
                                  examples=["2026-01-31"])]


@router.get("/operator/accounts", summary="Every account: balance, status, spend over 30 days", responses={
    200: documented(AccountSummaryPage, "One page of accounts, newest first; pass `next_cursor` as `cursor`"),
    400: documented(ErrorBody, "Invalid cursor"),
    401: UNAUTHORIZED, 403: OPERATOR_ONLY,
})
def list_accounts(
    cursor: Annotated[str | None, Query(description="The previous page's `next_cursor`", max_length=1024)] = None,
) -> Response[AccountSummaryPage]:
    current_operator()
    deps = routes.deps()
    return json_response(account_summaries(deps.directory, deps.account_jobs, cursor, now_epoch()))


@router.post("/operator/accounts/<account_id>/credit", summary="Adjust an account's credit, with a reason", responses={
    200: documented(CreditAdjustmentView, "The balance after and the `credit` ledger entry (the same entry again, with "
                                          "`Idempotent-Replayed: true`, for a repeat under the same Idempotency-Key)"),
    400: documented(ErrorBody, "Zero or invalid amount (plain ASCII decimal only), a reason outside 3-200 printable "
                               "characters, or a missing or invalid Idempotency-Key (`invalid_idempotency_key`)"),
    401: UNAUTHORIZED, 403: OPERATOR_ONLY,
    404: documented(ErrorBody, "No such account (`account_not_found`)"),
    409: documented(ErrorBody, "A negative amount larger than the balance (`balance_would_go_negative`)"),
    415: documented(ErrorBody, "Wrong content type"),
    422: documented(ErrorBody, "The Idempotency-Key was used for another adjustment (`idempotency_key_reused`)"),
}, description="JSON `{\"amount_usd\": \"25.00\", \"reason\": \"goodwill for incident 12\"}`; a negative amount "
               "takes credit back, never below a zero balance. An `Idempotency-Key` header is required: the same "
               "request again moves nothing and answers the first's entry.")
def adjust_account_credit(account_id: str) -> Response[CreditAdjustmentView]:
    operator = current_operator()
    event = routes.event()
    key = required_key(event.headers.get(HEADER.lower()))
    request = parse_json_body(event.raw_event, SMALL_JSON_BODY_BYTES, CreditAdjustmentRequest)
    made = adjust_credit(routes.deps().credits, account_id, int(request.amount_usd * MICROS_PER_USD), request.reason,
                         operator=str(operator.console_user), idempotency_key=key)
    return json_response(made.view(), headers={REPLAYED_HEADER: "true"} if made.replayed else None)


@router.get("/operator/margin", summary="Revenue, upstream cost and margin by model and upstream", responses={
    200: documented(MarginReport, "Rows per model and upstream (and UTC day with `group_by=day`), and totals"),
    400: documented(ErrorBody, "Invalid range (at most 92 days) or group_by"),
    401: UNAUTHORIZED, 403: OPERATOR_ONLY,
}, description="Over the jobs every account created from `since` to `until` (UTC days, inclusive; default the last "
               "30 days). Upstream cost as reported, else the routing document's estimate; unserved paid calls are "
               "taken off as the net margin (as `retouch-admin margin`).")
def get_margin(since: Day = None, until: Day = None,
               group_by: Annotated[str | None, Query(description="`day`, or leave out for the whole range",
                                                     max_length=8)] = None) -> Response[MarginReport]:
    current_operator()
    deps = routes.deps()
    return json_response(margin_report(deps.directory.account_ids(), deps.account_jobs, since, until, group_by,
                                       cost_estimates(deps.routing)))


@router.get("/operator/upstreams", summary="Upstream health: breakers and alarms", responses={
    200: documented(UpstreamHealthReport, "Each upstream's breaker state and current window, and the stack's alarms "
                                          "as CloudWatch console links"),
    401: UNAUTHORIZED, 403: OPERATOR_ONLY,
})
def get_upstreams() -> Response[UpstreamHealthReport]:
    current_operator()
    deps = routes.deps()
    return json_response(upstream_health(deps.breakers, deps.routing, deps.alarms, now_epoch()))
