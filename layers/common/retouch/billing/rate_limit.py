"""Per-account limits: submissions per minute (fixed one-minute windows, counted on the account item), every other
authenticated request per minute (counted on an item of its own), and the defaults of new accounts. The in-flight
limit is enforced by the hold (charges.py)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from retouch.auth.standing import in_standing
from retouch.errors import RateLimited, Unauthenticated
from retouch.models.account_records import AccountRecord
from retouch.ports import AccountMissing, RateCounter, ReadCounter

DEFAULT_MAX_IN_FLIGHT = 10
DEFAULT_REQUESTS_PER_MINUTE = 60
# Every other authenticated request (reads, cancels, deletes, redeliveries), counted apart from submissions so that
# polling never uses up the budget for new jobs (ApiSettings/StatusSettings.reads_per_minute).
DEFAULT_READS_PER_MINUTE = 600
WINDOW_SECONDS = 60


def _ratelimit_headers(limit: int, remaining: int, reset_seconds: int) -> dict[str, str]:
    """OpenAI's rate-limit headers."""
    return {
        "x-ratelimit-limit-requests": str(limit),
        "x-ratelimit-remaining-requests": str(remaining),
        "x-ratelimit-reset-requests": f"{reset_seconds}s",
    }


def _window(now: float | None) -> tuple[int, int]:
    """(the epoch minute `now` falls in, whole seconds to the next one)."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    return window, max(1, int((window + 1) * WINDOW_SECONDS - now + 0.999))


def _limited(what: str, limit: int, reset: int) -> RateLimited:
    error = RateLimited(f"Rate limit reached: {limit} {what} per minute. Retry in {reset} s.",
                        retry_after_seconds=reset)
    error.headers.update(_ratelimit_headers(limit, 0, reset))
    return error


@dataclass(frozen=True)
class Admission:
    """A counted request: the account as it is now (used as the reservation's first read) and the headers."""

    account: AccountRecord
    limit: int
    remaining: int
    reset_seconds: int

    @property
    def headers(self) -> dict[str, str]:
        return _ratelimit_headers(self.limit, self.remaining, self.reset_seconds)


def admit(ledger: RateCounter, account_id: str, key_id: str | None, now: float | None = None) -> Admission:
    """Count one request against the account's per-minute limit: 429 with Retry-After when over it, 401 when
    the account is suspended or the key revoked (effective at once, without waiting for the authorizer's cache:
    the account item this write returns lists the revoked keys, so it costs no extra read)."""
    window, reset = _window(now)
    try:
        counted = ledger.count_request(account_id, window)
    except AccountMissing as exc:
        raise Unauthenticated("This account does not exist.") from exc
    account = in_standing(counted.account, key_id)
    limit = account.requests_per_minute
    if not counted.admitted:
        raise _limited("requests", limit, reset)
    return Admission(account=account, limit=limit, remaining=max(0, limit - counted.count), reset_seconds=reset)


@dataclass(frozen=True)
class ReadAdmission:
    """A counted read: OpenAI's headers, for the read limit."""

    limit: int
    remaining: int
    reset_seconds: int

    @property
    def headers(self) -> dict[str, str]:
        return _ratelimit_headers(self.limit, self.remaining, self.reset_seconds)


def admit_read(counter: ReadCounter, account_id: str, limit: int, now: float | None = None) -> ReadAdmission:
    """Count one request that creates nothing against the account's per-minute read limit (one small write, never
    the account item); 429 rate_limit_exceeded with Retry-After past it. The key and account checks are the
    authorizer's (cached 30 s), as before."""
    window, reset = _window(now)
    counted = counter.count_read(account_id, window, limit)
    if not counted.admitted:
        raise _limited("reads", limit, reset)
    return ReadAdmission(limit=limit, remaining=max(0, limit - counted.count), reset_seconds=reset)
