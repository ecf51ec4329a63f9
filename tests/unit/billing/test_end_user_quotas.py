"""End users' quota arithmetic: the UTC windows and when each starts again, which limit refused a hold, usage grouped
by end user."""

from __future__ import annotations

import calendar
from datetime import date

import pytest

from retouch.billing.end_user_quotas import exceeded_limit, windows_at
from retouch.billing.usage import grouping, summarize
from retouch.errors import InvalidRequest
from retouch.models.end_users import EndUserLimits, EndUserRecord
from retouch.models.records import JobRecord
from retouch.ports import QuotaCharge

NOON_JAN_31 = calendar.timegm((2026, 1, 31, 12, 0, 30, 0, 0, 0))
LIMITS = EndUserLimits(requests_per_minute=5, images_per_day=10, usd_per_day_micros=1_000_000,
                       usd_per_month_micros=5_000_000)


def _charge(images: int = 1, micros: int = 53_000) -> QuotaCharge:
    windows = windows_at(NOON_JAN_31)
    return QuotaCharge(job_id="job_x", images=images, micros=micros, minute=windows.minute, day=windows.day,
                       month=windows.month, limits=LIMITS, now=NOON_JAN_31)


def test_windows_are_utc_and_reset_at_the_next_minute_day_and_month() -> None:
    windows = windows_at(NOON_JAN_31)
    assert (windows.minute, windows.day, windows.month) == ("202601311200", "20260131", "202601")
    assert windows.minute_reset == 30
    assert windows.day_reset == 12 * 3600 - 30
    assert windows.month_reset == 12 * 3600 - 30  # the 31st is January's last day


@pytest.mark.parametrize(("record", "charge", "limit"), [
    (EndUserRecord(account_id="a", end_user="u", minute="202601311200", minute_requests=5), _charge(),
     "requests_per_minute"),
    (EndUserRecord(account_id="a", end_user="u", day="20260131", day_images=9), _charge(images=2), "images_per_day"),
    (EndUserRecord(account_id="a", end_user="u", day="20260131", day_micros=990_000), _charge(), "usd_per_day"),
    (EndUserRecord(account_id="a", end_user="u", month="202601", month_micros=4_990_000), _charge(),
     "usd_per_month"),
    (None, _charge(images=11), "images_per_day"),
])
def test_a_refusal_names_the_limit_it_hit(record: EndUserRecord | None, charge: QuotaCharge, limit: str) -> None:
    named, retry_after, detail = exceeded_limit(record, charge)
    assert named == limit and retry_after > 0 and detail


def test_counts_of_an_older_window_do_not_count_against_the_current_one() -> None:
    yesterday = EndUserRecord(account_id="a", end_user="u", minute="202601301200", minute_requests=5,
                              day="20260130", day_images=10, day_micros=1_000_000, month="202601",
                              month_micros=4_990_000)
    assert exceeded_limit(yesterday, _charge())[0] == "usd_per_month"


def _job(job_id: str, user: str | None, images: int, cost: int) -> JobRecord:
    return JobRecord(job_id=job_id, account_id="a", kind="edit", status="succeeded", model="gpt-image-2",
                     request={}, created_at=NOON_JAN_31, expires_at=NOON_JAN_31 + 1, end_user=user,
                     usage={"images": images, "cost_micros": cost})


def test_usage_grouped_by_end_user_sums_each_end_users_jobs() -> None:
    jobs = [_job("j1", "u1", 1, 100), _job("j2", "u1", 2, 200), _job("j3", "u2", 1, 50), _job("j4", None, 1, 7)]
    report = summarize(jobs, date(2026, 1, 1), date(2026, 1, 31), grouping("user"))
    rows = {(b.user, b.jobs, b.images, b.cost_micros) for b in report.data}
    assert rows == {("u1", 2, 3, 300), ("u2", 1, 1, 50), (None, 1, 1, 7)}
    assert all(b.date is None and b.model is None for b in report.data)
    assert report.total_cost_micros == 357 and report.group_by == ["user"]


def test_group_by_takes_any_of_day_model_user_in_a_fixed_order_and_refuses_others() -> None:
    assert grouping(None) == ("day", "model")
    assert grouping("user,day") == ("day", "user")
    with pytest.raises(InvalidRequest) as refused:
        grouping("account")
    assert refused.value.param == "group_by"
