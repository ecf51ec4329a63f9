"""Rate limits and their headers; usage per day and model; a job's usage; the ledger's page size."""

from __future__ import annotations

from datetime import date

import pytest

from retouch.billing.rate_limit import admit
from retouch.billing.usage import job_usage_view, summarize, usage_range
from retouch.errors import InvalidRequest, RateLimited, Unauthenticated
from tests.fakes import FakeLedger, account, job

ACCOUNT = "acct_unit000000000000000"


def test_admitted_requests_carry_openai_rate_headers_counting_down() -> None:
    # Given an account allowed 3 requests a minute, 20 s into a minute
    ledger = FakeLedger(account(requests_per_minute=3))

    # When two requests are admitted
    first = admit(ledger, ACCOUNT, "key_1", now=600 * 60 + 20)
    second = admit(ledger, ACCOUNT, "key_1", now=600 * 60 + 21)

    # Then the headers show the limit, what remains and when the window resets
    assert first.headers == {"x-ratelimit-limit-requests": "3", "x-ratelimit-remaining-requests": "2",
                             "x-ratelimit-reset-requests": "40s"}
    assert second.headers["x-ratelimit-remaining-requests"] == "1"


def test_over_the_limit_is_429_rate_limit_exceeded_with_retry_after_until_the_next_minute() -> None:
    # Given an account allowed 1 request a minute that used it
    ledger = FakeLedger(account(requests_per_minute=1))
    admit(ledger, ACCOUNT, "key_1", now=60 * 100 + 45)

    # When it sends another in the same minute, then 429 with Retry-After and the headers; the next minute is fine
    with pytest.raises(RateLimited) as limited:
        admit(ledger, ACCOUNT, "key_1", now=60 * 100 + 50)
    assert limited.value.status_code == 429 and limited.value.code == "rate_limit_exceeded"
    assert limited.value.headers["Retry-After"] == "10"
    assert limited.value.headers["x-ratelimit-remaining-requests"] == "0"
    assert admit(ledger, ACCOUNT, "key_1", now=60 * 101 + 1).remaining == 0


def test_a_suspended_or_missing_account_is_not_admitted() -> None:
    # Given a suspended account and no account at all, when they send requests, then 401
    with pytest.raises(Unauthenticated):
        admit(FakeLedger(account(status="suspended")), ACCOUNT, "key_1", now=0)
    with pytest.raises(Unauthenticated):
        admit(FakeLedger(None), ACCOUNT, "key_1", now=0)


def test_a_revoked_key_is_not_admitted_even_while_the_authorizer_cache_passes_it() -> None:
    # Given an account whose key_1 was revoked (listed on the account item) and whose key_2 was not
    ledger = FakeLedger(account(revoked_key_ids=["key_1"]))

    # When key_1 submits, then 401 at once; key_2 is admitted
    with pytest.raises(Unauthenticated) as refused:
        admit(ledger, ACCOUNT, "key_1", now=0)
    assert refused.value.code == "invalid_api_key" and "revoked" in refused.value.message
    admitted = admit(ledger, ACCOUNT, "key_2", now=1)
    # (the refused key_1 request was counted too: the count is the write that reads the revoked keys)
    assert admitted.remaining == admitted.limit - 2 > 0


def test_usage_is_summed_per_utc_day_and_model_from_what_was_charged() -> None:
    # Given three jobs on two UTC days: two settled, one still queued
    day1, day2 = 1_763_251_200, 1_763_251_200 + 86_400  # 2025-11-16 and -17, 00:00 UTC
    jobs = [job(job_id="job_" + "a" * 24, created_at=day1 + 5, status="succeeded",
                usage={"images": 2, "cost_micros": 12_000}),
            job(job_id="job_" + "b" * 24, created_at=day1 + 86_399, status="failed",
                usage={"images": 0, "cost_micros": 0}),
            job(job_id="job_" + "c" * 24, created_at=day2 + 1, reserved_micros=6_000)]

    # When summarized
    report = summarize(jobs, date(2025, 11, 16), date(2025, 11, 17))

    # Then per day and model: jobs, images and cost (0 for the queued job)
    rows = [(b.date, b.model, b.jobs, b.images, b.cost_micros) for b in report.data]
    assert rows == [("2025-11-16", "gpt-image-2", 2, 2, 12_000), ("2025-11-17", "gpt-image-2", 1, 0, 0)]
    assert (report.total_jobs, report.total_images, report.total_cost_usd) == (3, 2, 0.012)


def test_the_usage_range_defaults_to_30_days_and_refuses_bad_ranges() -> None:
    # Given today, when no range is given, then the last 30 days; reversed or too long ranges are 400s
    assert usage_range(None, None, date(2026, 1, 31)) == (date(2026, 1, 2), date(2026, 1, 31))
    assert usage_range("1767225600", "2026-01-02", date(2026, 3, 1)) == (date(2026, 1, 1), date(2026, 1, 2))
    for start, end in (("2026-02-01", "2026-01-01"), ("2024-01-01", "2026-01-01"), ("yesterday", None)):
        with pytest.raises(InvalidRequest):
            usage_range(start, end, date(2026, 3, 1))


@pytest.mark.parametrize(("start", "end"), [
    (None, "9999-12-31"), (None, "0001-01-05"), ("253402214400", "253402214400"), ("0001-01-01", "0001-01-02")])
def test_dates_at_the_ends_of_the_calendar_are_a_400_not_an_overflow(start: str | None, end: str) -> None:
    with pytest.raises(InvalidRequest):
        usage_range(start, end, date(2026, 3, 1))


@pytest.mark.parametrize("key", [
    {"pk": 1, "sk": 1, "gsi1pk": {"S": "ACCOUNT#a"}, "gsi1sk": 1},
    {"pk": {"S": "ACCOUNT#a"}, "sk": {"S": "LEDGER#x"}, "gsi1pk": {"S": "ACCOUNT#a"}, "gsi1sk": {"N": "1"}},
    {"pk": {"S": "ACCOUNT#b"}, "sk": {"S": "LEDGER#x"}, "gsi1pk": {"S": "ACCOUNT#a"}, "gsi1sk": {"S": "LEDGER#1"}},
    {"pk": {"S": "JOB#a"}, "sk": {"S": "JOB"}, "gsi1pk": {"S": "ACCOUNT#a"}, "gsi1sk": {"S": "LEDGER#1"}},
])
def test_a_crafted_ledger_cursor_is_refused_before_it_reaches_dynamodb(key: dict) -> None:
    import base64
    import json

    from retouch.data.ledger import LedgerRepository

    class NoDynamoDB:
        def query(self, **_params: object) -> None:
            raise AssertionError("a crafted cursor reached DynamoDB")

    with pytest.raises(ValueError, match="invalid cursor"):
        LedgerRepository("table", NoDynamoDB()).ledger_page(
            "a", limit=1, cursor=base64.urlsafe_b64encode(json.dumps(key).encode()).decode())


def test_every_job_shows_images_and_cost_usd_with_the_providers_tokens() -> None:
    # Given a succeeded job with provider tokens, a queued one, and one from before billing
    done = job(status="succeeded", reserved_micros=6_000,
               usage={"total_tokens": 272, "images": 1, "cost_micros": 6_000})
    queued = job(reserved_micros=53_000, usage={"images": 0, "cost_micros": 0})
    legacy = job(status="succeeded", outputs=[{"key": "k", "content_type": "image/png", "bytes": 1, "width": 1,
                                                "height": 1}])

    # Then each shows usage.images and usage.cost_usd; the queued one also what is held
    assert job_usage_view(done) == {"total_tokens": 272, "images": 1, "cost_usd": 0.006}
    assert job_usage_view(queued) == {"images": 0, "cost_usd": 0.0, "reserved_usd": 0.053}
    assert job_usage_view(legacy) == {"images": 1, "cost_usd": 0.0}


@pytest.mark.parametrize("cursor", [
    pytest.param("W" * 1100, id="too-long"),
    pytest.param(__import__("base64").urlsafe_b64encode(b"[" * 700).decode(), id="nested-json-bomb"),
])
def test_an_oversized_or_deeply_nested_cursor_is_invalid_not_a_crash(cursor: str) -> None:
    from retouch.data.cursors import decode_cursor

    with pytest.raises(ValueError, match="invalid cursor"):
        decode_cursor(cursor, partition="ACCOUNT#a", valid=lambda _key: True)
