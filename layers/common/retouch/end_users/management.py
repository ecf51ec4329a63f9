"""GET/PUT /v1/end_users/{user}, GET /v1/end_users and GET/PUT /v1/end_user_defaults: limits and current usage."""

from __future__ import annotations

from retouch.billing.end_user_quotas import effective_limits, windows_at
from retouch.billing.money import parse_usd, to_usd
from retouch.errors import InvalidRequest
from retouch.models.end_users import (
    SYSTEM_DEFAULT_LIMITS,
    EndUserDefaultsView,
    EndUserLimits,
    EndUserList,
    EndUserRecord,
    EndUserUsageView,
    EndUserView,
    LimitsUpdate,
    LimitsView,
)
from retouch.paging import invalid_cursor, page_size
from retouch.ports import EndUserStore

MAX_LIMIT_MICROS = 1_000_000 * 1_000_000  # a million dollars: far past any end user, well inside a DynamoDB number


def limits_view(limits: EndUserLimits) -> LimitsView:
    return LimitsView(requests_per_minute=limits.requests_per_minute, images_per_day=limits.images_per_day,
                      usd_per_day=to_usd(limits.usd_per_day_micros), usd_per_day_micros=limits.usd_per_day_micros,
                      usd_per_month=to_usd(limits.usd_per_month_micros),
                      usd_per_month_micros=limits.usd_per_month_micros)


def _usage(record: EndUserRecord | None, now: int) -> EndUserUsageView:
    """The current windows' counts (a window the item is not in any more counts 0)."""
    windows = windows_at(now)
    record = record or EndUserRecord(account_id="", end_user="")
    today = record.day == windows.day
    this_month = record.month == windows.month
    day_micros = record.day_micros if today else 0
    month_micros = record.month_micros if this_month else 0
    return EndUserUsageView(
        requests_this_minute=record.minute_requests if record.minute == windows.minute else 0,
        images_today=record.day_images if today else 0, usd_today=to_usd(day_micros), usd_today_micros=day_micros,
        usd_this_month=to_usd(month_micros), usd_this_month_micros=month_micros, in_flight=len(record.holds),
        spent_usd=to_usd(record.spent_micros), spent_micros=record.spent_micros, images_total=record.images_total,
        jobs_total=record.jobs_total)


def end_user_view(store: EndUserStore, account_id: str, end_user: str, record: EndUserRecord | None,
                  now: int) -> EndUserView:
    limits, source = effective_limits(store, account_id, record)
    return EndUserView(id=end_user, limits=limits_view(limits), limits_source=source, usage=_usage(record, now))


def get_end_user(store: EndUserStore, account_id: str, end_user: str, now: int) -> EndUserView:
    """Never 404: an end user never seen has the defaults and no usage."""
    return end_user_view(store, account_id, end_user, store.get(account_id, end_user), now)


def _micros(value: str | float | None, param: str) -> int | None:
    if value is None:
        return None
    try:
        micros = parse_usd(str(value))
    except ValueError as exc:
        raise InvalidRequest(f"Invalid '{param}': {exc}.", param=param) from exc
    if not 0 <= micros <= MAX_LIMIT_MICROS:
        raise InvalidRequest(f"'{param}' must be between 0 and {MAX_LIMIT_MICROS // 1_000_000} dollars.",
                             param=param)
    return micros


def _merged(base: EndUserLimits, update: LimitsUpdate) -> EndUserLimits:
    day = _micros(update.usd_per_day, "limits.usd_per_day")
    month = _micros(update.usd_per_month, "limits.usd_per_month")
    return EndUserLimits(
        requests_per_minute=base.requests_per_minute if update.requests_per_minute is None
        else update.requests_per_minute,
        images_per_day=base.images_per_day if update.images_per_day is None else update.images_per_day,
        usd_per_day_micros=base.usd_per_day_micros if day is None else day,
        usd_per_month_micros=base.usd_per_month_micros if month is None else month)


def set_end_user_limits(store: EndUserStore, account_id: str, end_user: str, update: LimitsUpdate,
                        now: int) -> EndUserView:
    """The end user's own limits: those given, the rest as they are now (its own, or the defaults)."""
    current = store.get(account_id, end_user)
    base, _ = effective_limits(store, account_id, current)
    record = store.set_limits(account_id, end_user, _merged(base, update), now)
    return end_user_view(store, account_id, end_user, record, now)


def get_defaults(store: EndUserStore, account_id: str) -> EndUserDefaultsView:
    defaults = store.defaults(account_id)
    if defaults is None:
        return EndUserDefaultsView(limits=limits_view(SYSTEM_DEFAULT_LIMITS), source="system_default")
    return EndUserDefaultsView(limits=limits_view(defaults), source="account_default")


def set_defaults(store: EndUserStore, account_id: str, update: LimitsUpdate) -> EndUserDefaultsView:
    merged = _merged(store.defaults(account_id) or SYSTEM_DEFAULT_LIMITS, update)
    store.set_defaults(account_id, merged)
    return EndUserDefaultsView(limits=limits_view(merged), source="account_default")


def list_end_users(store: EndUserStore, account_id: str, limit: str | None, after: str | None,
                   now: int) -> EndUserList:
    """Highest total spend first (settled charges, all time; ties by id, descending); `after` is the previous page's
    `next_cursor`."""
    try:
        records, cursor = store.page(account_id, limit=page_size(limit), cursor=after)
    except ValueError:
        raise invalid_cursor() from None
    return EndUserList(data=[end_user_view(store, account_id, r.end_user, r, now) for r in records],
                       has_more=cursor is not None, next_cursor=cursor)
