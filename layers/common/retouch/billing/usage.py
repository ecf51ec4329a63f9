"""What an account sees of its money: the account, usage per day and model, the ledger, a job's usage."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from retouch.billing.money import to_usd
from retouch.errors import InvalidRequest, Unauthenticated
from retouch.models.account_records import AccountRecord, LedgerEntry
from retouch.models.records import JobRecord
from retouch.models.responses import AccountLimits, AccountView, LedgerEntryView, LedgerPage, UsageBucket, UsageReport
from retouch.paging import MAX_PAGE, invalid_cursor
from retouch.ports import JobHistory, LedgerReader

DEFAULT_USAGE_DAYS = 30
MAX_USAGE_DAYS = 366

_OURS = ("images", "cost_micros")


def job_usage_view(record: JobRecord) -> dict[str, Any]:
    """`usage` of a job: the provider's token counts, images produced and cost_usd (0 until settled);
    while the job is in flight, also what is held for it."""
    stored = dict(record.usage or {})
    cost = int(stored.pop("cost_micros", 0) or 0)
    images = stored.pop("images", None)
    if images is None:
        images = len(record.outputs) if record.status == "succeeded" else 0
    pricing = stored.pop("pricing", None)
    view = {**stored, "images": int(images), "cost_usd": to_usd(cost)}
    if isinstance(pricing, dict):
        view["pricing"] = pricing_view(pricing, record.price_version)
    if record.reserved_micros is not None and not record.is_terminal:
        view["reserved_usd"] = to_usd(record.reserved_micros)
    return view


def pricing_view(stored: dict[str, Any], version: str | None) -> dict[str, Any]:
    """How the pricing rule priced a settled job (its stored `usage.pricing`), as a quote shows it."""
    return {"outputs_usd": to_usd(int(stored.get("outputs_micros", 0))),
            "inputs_usd": to_usd(int(stored.get("inputs_micros", 0))),
            "input_text_tokens": int(stored.get("input_text_tokens", 0)),
            "input_image_tokens": int(stored.get("input_image_tokens", 0)),
            "input_basis": stored.get("input_basis"), "capped_at_hold": bool(stored.get("capped")),
            "version": version}


def account_view(account: AccountRecord | None) -> AccountView:
    if account is None:
        raise Unauthenticated("This account does not exist.")
    return AccountView(id=account.account_id, name=account.name, status=account.status,
                       balance_usd=to_usd(account.balance_micros), balance_micros=account.balance_micros,
                       in_flight=account.in_flight, created=account.created_at,
                       limits=AccountLimits(max_in_flight=account.max_in_flight,
                                            requests_per_minute=account.requests_per_minute))


# Days outside these bounds can't be shifted by the range arithmetic (date.max + 1 day overflows).
_EARLIEST_DAY, _LATEST_DAY = date(1970, 1, 1), date(9998, 12, 31)


def parse_day(text: str | None, param: str, default: date) -> date:
    if not text:
        return default
    invalid = InvalidRequest(f"'{param}' must be a date (YYYY-MM-DD) or unix seconds, from 1970 to 9998.",
                             param=param)
    try:
        day = date.fromisoformat(text)
    except ValueError:
        try:  # OpenAI's usage API takes unix seconds
            day = datetime.fromtimestamp(int(text), UTC).date()
        except (ValueError, OverflowError, OSError):
            raise invalid from None
    if not _EARLIEST_DAY <= day <= _LATEST_DAY:
        raise invalid
    return day


def usage_range(start: str | None, end: str | None, today: date) -> tuple[date, date]:
    """[start, end] in UTC days, both inclusive; by default the last 30 days."""
    last = parse_day(end, "end", today)
    first = parse_day(start, "start", max(_EARLIEST_DAY, last - timedelta(days=DEFAULT_USAGE_DAYS - 1)))
    if first > last:
        raise InvalidRequest("'start' must not be after 'end'.", param="start")
    if (last - first).days >= MAX_USAGE_DAYS:
        raise InvalidRequest(f"The range must be at most {MAX_USAGE_DAYS} days.", param="start")
    return first, last


def _epoch(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


GROUPINGS = ("day", "model", "user")
DEFAULT_GROUPING = ("day", "model")


def grouping(text: str | None) -> tuple[str, ...]:
    """`group_by`: a comma-separated subset of day, model and user (default day,model), or a 400 naming it."""
    if not text:
        return DEFAULT_GROUPING
    names = tuple(dict.fromkeys(name.strip() for name in text.split(",")))
    if not names or any(name not in GROUPINGS for name in names):
        raise InvalidRequest(f"'group_by' must be a comma-separated list of {', '.join(GROUPINGS)}.",
                             param="group_by")
    return tuple(name for name in GROUPINGS if name in names)


def _key(job: JobRecord, group_by: tuple[str, ...]) -> tuple[str, str, str]:
    """(day, model, user) with what is not grouped on left empty."""
    day = datetime.fromtimestamp(job.created_at, UTC).date().isoformat() if "day" in group_by else ""
    return day, job.model if "model" in group_by else "", (job.end_user or "") if "user" in group_by else ""


def summarize(jobs: Iterable[JobRecord], first: date, last: date,
              group_by: tuple[str, ...] = DEFAULT_GROUPING) -> UsageReport:
    """Jobs, images and cost per group (by default the UTC day of creation and the model; also by end user). Cost is
    what was charged (0 while in flight)."""
    buckets: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for job in jobs:
        usage = job.usage or {}
        bucket = buckets[_key(job, group_by)]
        bucket[0] += 1
        bucket[1] += int(usage.get("images", 0) or 0)
        bucket[2] += int(usage.get("cost_micros", 0) or 0)
    data = [UsageBucket(date=day or None, model=model or None, user=user or None, jobs=j, images=i,
                        cost_usd=to_usd(c), cost_micros=c)
            for (day, model, user), (j, i, c) in sorted(buckets.items())]
    total = sum(b.cost_micros for b in data)
    return UsageReport(start=first.isoformat(), end=last.isoformat(), group_by=list(group_by), data=data,
                       total_jobs=sum(b.jobs for b in data), total_images=sum(b.images for b in data),
                       total_cost_usd=to_usd(total), total_cost_micros=total)


def usage_report(jobs: JobHistory, account_id: str, start: str | None, end: str | None,
                 today: date | None = None, group_by: str | None = None) -> UsageReport:
    groups = grouping(group_by)
    first, last = usage_range(start, end, today or datetime.now(UTC).date())
    records = jobs.created_between(account_id, _epoch(first), _epoch(last + timedelta(days=1)) - 1)
    return summarize(records, first, last, groups)


def entry_view(entry: LedgerEntry) -> LedgerEntryView:
    return LedgerEntryView(id=entry.entry_id, kind=entry.kind, job_id=entry.job_id,
                           amount_usd=to_usd(entry.amount_micros), amount_micros=entry.amount_micros,
                           balance_after_usd=(None if entry.balance_after_micros is None
                                              else to_usd(entry.balance_after_micros)),
                           balance_after_micros=entry.balance_after_micros, created=entry.at_ms // 1000,
                           created_ms=entry.at_ms, note=entry.note, charged_micros=entry.charged_micros,
                           released_micros=entry.released_micros, outcome=entry.outcome, images=entry.images,
                           payment_id=entry.payment_id, stripe_event_id=entry.stripe_event_id)


def ledger_page(ledger: LedgerReader, account_id: str, size: int, after: str | None) -> LedgerPage:
    """Newest first; `after` is the previous page's `next_cursor`."""
    if not 1 <= size <= MAX_PAGE:
        raise InvalidRequest(f"'limit' must be between 1 and {MAX_PAGE}.", param="limit")
    try:
        entries, cursor = ledger.ledger_page(account_id, limit=size, cursor=after)
    except ValueError:
        raise invalid_cursor() from None
    return LedgerPage(data=[entry_view(e) for e in entries], has_more=cursor is not None, next_cursor=cursor)
