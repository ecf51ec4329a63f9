"""Hard per-end-user quotas, reserved before the upstream call and settled after, as the account's credit is.

A job made for an end user (OpenAI's `user`) holds, on that end user's own item, one request in the current minute,
its images in the current day and its price in the current day and month, in one conditional update whose condition
is the limits (data/end_users.py), so 50 concurrent submits for an end user allowed 10 images accept exactly 10. A job
submitted with a device token also holds its price on the token, within the token's spend cap. The hold is taken
after the job is written `hold_pending` and before the account's (billing/charges.py), so a refusal deletes the job
and nothing runs; every end of the job (finished, failed, canceled, dead-lettered, stranded) settles it through
the account's release: what the job did not use goes back to the windows it was held in. Both moves are idempotent
(the item's `holds` map), so the sweeper finishing a half-way move cannot count it twice.

Limits: the end user's own (PUT /v1/end_users/{user}), else the account's defaults (PUT /v1/end_user_defaults),
else SYSTEM_DEFAULT_LIMITS: a never-seen end user is never unlimited. The price held is the account's own hold for
the job (JobBilling.price), so both follow one pricing rule.
"""

from __future__ import annotations

import calendar
import time
from dataclasses import dataclass
from typing import Literal

from aws_lambda_powertools import Logger

from retouch.billing.money import format_usd
from retouch.errors import EndUserLimitExceeded, SpendCapExceeded, Unauthenticated
from retouch.models.end_users import SYSTEM_DEFAULT_LIMITS, EndUserLimits, EndUserRecord, LimitName
from retouch.models.records import JobRecord
from retouch.ports import ClientTokenStore, EndUserStore, QuotaCharge, QuotaRefused, SpendCapRefused

logger = Logger(child=True)

LimitsSource = Literal["end_user", "account_default", "system_default"]


@dataclass(frozen=True)
class Windows:
    """The UTC windows a moment falls in, and the seconds until each starts again."""

    minute: str
    day: str
    month: str
    minute_reset: int
    day_reset: int
    month_reset: int


def windows_at(now: int) -> Windows:
    t = time.gmtime(now)
    days_in_month = calendar.monthrange(t.tm_year, t.tm_mon)[1]
    into_day = t.tm_hour * 3600 + t.tm_min * 60 + t.tm_sec
    return Windows(minute=time.strftime("%Y%m%d%H%M", t), day=time.strftime("%Y%m%d", t),
                   month=time.strftime("%Y%m", t), minute_reset=60 - t.tm_sec, day_reset=86400 - into_day,
                   month_reset=(days_in_month - t.tm_mday) * 86400 + 86400 - into_day)


def effective_limits(store: EndUserStore, account_id: str, record: EndUserRecord | None,
                     ) -> tuple[EndUserLimits, LimitsSource]:
    if record is not None and record.limits is not None:
        return record.limits, "end_user"
    defaults = store.defaults(account_id)
    if defaults is not None:
        return defaults, "account_default"
    return SYSTEM_DEFAULT_LIMITS, "system_default"


def exceeded_limit(record: EndUserRecord | None, charge: QuotaCharge) -> tuple[LimitName, int, str]:
    """Which limit refused `charge` (as the refused update saw the end user), the seconds until its window starts
    again, and what to tell the client."""
    limits, windows = charge.limits, windows_at(charge.now)
    same_minute = record is not None and record.minute == charge.minute
    same_day = record is not None and record.day == charge.day
    same_month = record is not None and record.month == charge.month
    requests = record.minute_requests if record and same_minute else 0
    images = record.day_images if record and same_day else 0
    day_micros = record.day_micros if record and same_day else 0
    month_micros = record.month_micros if record and same_month else 0
    if requests + 1 > limits.requests_per_minute:
        return ("requests_per_minute", windows.minute_reset,
                f"at most {limits.requests_per_minute} requests a minute")
    if images + charge.images > limits.images_per_day:
        return ("images_per_day", windows.day_reset,
                f"at most {limits.images_per_day} images a day; {images} used or held today, this request asks "
                f"for {charge.images}")
    if day_micros + charge.micros > limits.usd_per_day_micros:
        return ("usd_per_day", windows.day_reset,
                f"at most {format_usd(limits.usd_per_day_micros)} a day; {format_usd(day_micros)} used or held "
                f"today, this request holds {format_usd(charge.micros)}")
    return ("usd_per_month", windows.month_reset,
            f"at most {format_usd(limits.usd_per_month_micros)} a month; {format_usd(month_micros)} used or held "
            f"this month, this request holds {format_usd(charge.micros)}")


def _refusal(end_user: str, limit: LimitName, retry_after: int, detail: str) -> EndUserLimitExceeded:
    return EndUserLimitExceeded(f"End user '{end_user}' is over its {limit} limit ({detail}); retry in "
                                f"{retry_after} s.", limit=limit, retry_after_seconds=retry_after)


@dataclass(frozen=True)
class EndUserQuotas:
    store: EndUserStore
    tokens: ClientTokenStore | None = None

    def hold(self, job: JobRecord, micros: int, *, now: int) -> None:
        """Hold the job on its end user (and its device token); 429 over a limit or cap, 401 for a token revoked or
        expired since the authorizer let it through. Nothing is held when it refuses."""
        if job.end_user is None:
            return
        record = self.store.get(job.account_id, job.end_user)
        limits, _ = effective_limits(self.store, job.account_id, record)
        windows = windows_at(now)
        charge = QuotaCharge(job_id=job.job_id, images=int(job.request.get("n", 1)), micros=micros,
                             minute=windows.minute, day=windows.day, month=windows.month, limits=limits, now=now)
        try:
            self.store.hold(job.account_id, job.end_user, charge)
        except QuotaRefused as refused:
            limit, retry_after, detail = exceeded_limit(refused.current, charge)
            logger.info("end user limit refused a job", extra={"job_id": job.job_id, "limit": limit})
            raise _refusal(job.end_user, limit, retry_after, detail) from refused
        if job.client_token_id is None or self.tokens is None:
            return
        try:
            self.tokens.hold(job.client_token_id, job.job_id, micros, now)
        except SpendCapRefused as refused:
            self.store.release(job.account_id, job.end_user, job.job_id, images=0, micros=0)
            if refused.reason == "spend_cap":
                raise SpendCapExceeded(f"This device token's spend cap does not cover this request (it holds "
                                       f"{format_usd(micros)}).", retry_after_seconds=3600) from refused
            raise Unauthenticated("This device token has been revoked or has expired.") from refused

    def settle(self, job: JobRecord, *, images: int, micros: int) -> None:
        """The job ended having produced `images` for `micros`: its holds end, the rest goes back. Idempotent."""
        if job.end_user is None:
            return
        if job.client_token_id is not None and self.tokens is not None:
            self.tokens.release(job.client_token_id, job.job_id, micros)
        self.store.release(job.account_id, job.end_user, job.job_id, images=images, micros=micros)

    def count_request(self, account_id: str, end_user: str, now: int) -> None:
        """A request that holds nothing (an upload) still counts against the end user's requests per minute."""
        record = self.store.get(account_id, end_user)
        limits, _ = effective_limits(self.store, account_id, record)
        windows = windows_at(now)
        try:
            self.store.count_request(account_id, end_user, minute=windows.minute, limit=limits.requests_per_minute,
                                     now=now)
        except QuotaRefused as refused:
            raise _refusal(end_user, "requests_per_minute", windows.minute_reset,
                           f"at most {limits.requests_per_minute} requests a minute") from refused
