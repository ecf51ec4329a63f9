"""The operator's list of accounts (the console's operator view): each account's balance, status, age and what its
jobs of the last 30 days were charged. The accounts come from the account directory (an index), the spend from each
listed account's own job index, so one page costs a read and a query per account listed."""

from __future__ import annotations

from retouch.billing.money import to_usd
from retouch.errors import InvalidRequest
from retouch.models.console_routes import AccountSummary, AccountSummaryPage
from retouch.ports import AccountDirectory, JobHistory

SPEND_WINDOW_SECONDS = 30 * 86_400
ACCOUNTS_PER_PAGE = 25


def account_summaries(directory: AccountDirectory, jobs: JobHistory, cursor: str | None,
                      now: int) -> AccountSummaryPage:
    try:
        accounts, next_cursor = directory.account_page(limit=ACCOUNTS_PER_PAGE, cursor=cursor)
    except ValueError:
        raise InvalidRequest("'cursor' is not a cursor from this listing.", param="cursor") from None
    data = []
    for account in accounts:
        spend = sum(int((job.usage or {}).get("cost_micros") or 0)
                    for job in jobs.created_between(account.account_id, now - SPEND_WINDOW_SECONDS, now))
        data.append(AccountSummary(id=account.account_id, name=account.name, status=account.status,
                                   created_at=account.created_at, balance_usd=to_usd(account.balance_micros),
                                   balance_micros=account.balance_micros, in_flight=account.in_flight,
                                   spend_30d_usd=to_usd(spend), spend_30d_micros=spend))
    return AccountSummaryPage(data=data, has_more=next_cursor is not None, next_cursor=next_cursor)
