"""Per-account limits: requests per minute (fixed one-minute windows, counted on the account item) and the
defaults of new accounts. The in-flight limit is enforced by the reservation transaction (charges.py)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from retouch.errors import RateLimited, Unauthenticated
from retouch.models.account_records import AccountRecord
from retouch.ports import AccountMissing, RateCounter, ReadCounter

DEFAULT_MAX_IN_FLIGHT = 10
DEFAULT_REQUESTS_PER_MINUTE = 60
# Every other authenticated request (reads, cancels, deletes, redeliveries), counted apart from submissions so that
# polling never uses up the budget for new jobs (ApiSettings/StatusSettings.reads_per_minute).
DEFAULT_READS_PER_MINUTE = 600
WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Admission:
    """A counted request: the account as it is now (used as the reservation's first read) and the headers."""

    account: AccountRecord
    limit: int
    remaining: int
    reset_seconds: int

    @property
    def headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit-requests": str(self.limit),
            "x-ratelimit-remaining-requests": str(self.remaining),
            "x-ratelimit-reset-requests": f"{self.reset_seconds}s",
        }


def admit(ledger: RateCounter, account_id: str, key_id: str | None, now: float | None = None) -> Admission:
    """Count one request against the account's per-minute limit: 429 with Retry-After when over it, 401 when
    the account is suspended or the key revoked (effective at once, without waiting for the authorizer's cache:
    the account item this write returns lists the revoked keys, so it costs no extra read)."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    reset = max(1, int((window + 1) * WINDOW_SECONDS - now + 0.999))
    try:
        counted = ledger.count_request(account_id, window)
    except AccountMissing as exc:
        raise Unauthenticated("This account does not exist.") from exc
    account = counted.account
    if account.status != "active":
        raise Unauthenticated("This account is suspended.")
    if key_id is not None and key_id in account.revoked_key_ids:
        raise Unauthenticated("This API key has been revoked.")
    limit = account.requests_per_minute
    if not counted.admitted:
        error = RateLimited(f"Rate limit reached: {limit} requests per minute. Retry in {reset} s.",
                            retry_after_seconds=reset)
        error.headers.update(Admission(account, limit, 0, reset).headers)
        raise error
    return Admission(account=account, limit=limit, remaining=max(0, limit - counted.count), reset_seconds=reset)


@dataclass(frozen=True)
class ReadAdmission:
    """A counted read: OpenAI's headers, for the read limit."""

    limit: int
    remaining: int
    reset_seconds: int

    @property
    def headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit-requests": str(self.limit),
            "x-ratelimit-remaining-requests": str(self.remaining),
            "x-ratelimit-reset-requests": f"{self.reset_seconds}s",
        }


def admit_read(counter: ReadCounter, account_id: str, limit: int, now: float | None = None) -> ReadAdmission:
    """Count one request that creates nothing against the account's per-minute read limit (one small write, never
    the account item); 429 rate_limit_exceeded with Retry-After past it. The key and account checks are the
    authorizer's (cached 30 s), as before."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    reset = max(1, int((window + 1) * WINDOW_SECONDS - now + 0.999))
    counted = counter.count_read(account_id, window, limit)
    if not counted.admitted:
        error = RateLimited(f"Rate limit reached: {limit} reads per minute. Retry in {reset} s.",
                            retry_after_seconds=reset)
        error.headers.update(ReadAdmission(limit, 0, reset).headers)
        raise error
    return ReadAdmission(limit=limit, remaining=max(0, limit - counted.count), reset_seconds=reset)
