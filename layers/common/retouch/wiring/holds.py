"""The requests an account may hold open waiting for their jobs (jobs/holds.py), as the api, sync, console and status
functions build them: a module of its own, so the status function's start imports no more than this."""

from __future__ import annotations

from retouch.data.account_slots import AccountSlotRepository
from retouch.jobs.holds import HeldRequests


def held_requests(table_name: str, *, kind: str, limit: int | None, refuses_over_limit: bool) -> HeldRequests | None:
    """The account's `limit` slots of `kind` for requests held open; None (not counted) without a limit."""
    if not limit:
        return None
    return HeldRequests(AccountSlotRepository(table_name, kind=kind, count=limit), limit,
                        refuses_over_limit=refuses_over_limit)
