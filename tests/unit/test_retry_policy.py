"""The retry schedule: parsing, delays per attempt, jitter, and the function's settings."""

from __future__ import annotations

import pytest

from retouch.retry import DEFAULT_SCHEDULE, parse_schedule, retry_delay, total_attempts


def test_default_schedule_is_ten_attempts_from_5_seconds_to_8_hours():
    schedule = parse_schedule(DEFAULT_SCHEDULE)
    assert schedule == (5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800)
    assert total_attempts(schedule) == 10


@pytest.mark.parametrize("text", ["5,x", "-1", "43201", ",".join(["1"] * 21)])
def test_bad_schedules_are_refused(text):
    with pytest.raises(ValueError):
        parse_schedule(text)


def test_each_failed_attempt_waits_its_entry_then_none_is_left():
    schedule = (5, 30, 120)
    exact = lambda low, high: 1.0  # noqa: E731 - no jitter
    assert [retry_delay(n, schedule, exact) for n in (1, 2, 3, 4)] == [5, 30, 120, None]


def test_delays_are_jittered_within_ten_percent():
    assert retry_delay(1, (600,), lambda low, high: low) == 540
    assert retry_delay(1, (600,), lambda low, high: high) == 660
    assert retry_delay(1, (0,)) == 0


def test_webhook_settings_validate_the_schedule_at_cold_start(monkeypatch):
    from pydantic import ValidationError

    from retouch.config import WebhookSettings

    env = {"RETOUCH_TABLE_NAME": "t", "RETOUCH_BUCKET_NAME": "bucket", "RETOUCH_WEBHOOKS_QUEUE_URL": "q",
           "RETOUCH_WEBHOOKS_DEAD_LETTER_QUEUE_URL": "dlq"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("RETOUCH_WEBHOOK_RETRY_SCHEDULE", "1,2")
    assert WebhookSettings.from_environment().retry_schedule == (1, 2)
    monkeypatch.setenv("RETOUCH_WEBHOOK_RETRY_SCHEDULE", "soon")
    with pytest.raises(ValidationError):
        WebhookSettings.from_environment()
