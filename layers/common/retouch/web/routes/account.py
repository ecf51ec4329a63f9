"""GET /v1/account, /v1/usage and /v1/usage/ledger: the calling account's balance, limits and spending."""


from dataclasses import dataclass
from typing import Annotated, Protocol

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from retouch.billing.usage import account_view, ledger_page, usage_report
from retouch.models.account_records import AccountRecord
from retouch.models.responses import AccountView, ErrorBody, LedgerPage, UsageReport
from retouch.paging import MAX_PAGE
from retouch.ports import JobHistory, LedgerReader
from retouch.web.principal import current_caller
from retouch.web.responses import UNAUTHORIZED, documented, json_response
from retouch.web.route_groups import RouteGroup


class AccountLedger(LedgerReader, Protocol):
    """The account item and its ledger, read (these routes never move a balance)."""

    def get_account(self, account_id: str) -> AccountRecord | None: ...


@dataclass(frozen=True)
class AccountRoutes:
    ledger: AccountLedger
    account_jobs: JobHistory  # usage is summed from the account's jobs


routes = RouteGroup(Router(), AccountRoutes)
router = routes.router

UsageDay = Annotated[str | None, Query(description="A UTC day, YYYY-MM-DD, or unix seconds; inclusive",
                                       examples=["2026-01-31"], max_length=32)]


@router.get("/v1/account", summary="The calling account", responses={
    200: documented(AccountView, "Balance (available, after holds), in-flight jobs and limits"),
    401: UNAUTHORIZED,
})
def get_account() -> Response[AccountView]:
    caller = current_caller()
    view = account_view(routes.deps().ledger.get_account(caller.account_id))
    return json_response(view.model_copy(update={"key_max_cost_per_call_micros": caller.max_cost_per_call_micros}))


@router.get("/v1/usage", summary="Usage per day, model and/or end user", responses={
    200: documented(UsageReport, "Jobs, images and cost per group (UTC day and model by default)"),
    400: documented(ErrorBody, "Invalid range"),
    401: UNAUTHORIZED,
}, description="`start` and `end` are UTC days (YYYY-MM-DD, or unix seconds), both inclusive; "
               "the default is the last 30 days, the longest range 366 days.")
def get_usage(start: UsageDay = None, end: UsageDay = None,
              group_by: Annotated[str | None, Query(description="Comma-separated: day, model, user (default "
                                                                "day,model); `user` groups by end user",
                                                    max_length=32, examples=["user", "day,user"])] = None,
              ) -> Response[UsageReport]:
    account_id = current_caller().account_id
    return json_response(usage_report(routes.deps().account_jobs, account_id, start, end, group_by=group_by))


@router.get("/v1/usage/ledger", summary="The account's ledger, newest first", responses={
    200: documented(LedgerPage, "One page of ledger entries; pass `next_cursor` as `after` for the next"),
    400: documented(ErrorBody, "Invalid limit or cursor"),
    401: UNAUTHORIZED,
})
def list_ledger(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Entries per page")] = 20,
    after: Annotated[str | None, Query(description="The previous page's `next_cursor`", max_length=2048)] = None,
) -> Response[LedgerPage]:
    account_id = current_caller().account_id
    return json_response(ledger_page(routes.deps().ledger, account_id, limit, after))
