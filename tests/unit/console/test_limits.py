"""Auth attempts limited per address and per e-mail (retouch/console/limits.py), in one-minute windows."""

from __future__ import annotations

import pytest

from retouch.console.limits import AttemptLimits, count_attempt
from retouch.errors import AuthRateLimited
from tests.fakes.console import FakeAttempts

NOW = 1_800_000_030  # 30 s into a minute


def test_an_address_past_its_limit_is_refused_until_the_next_minute() -> None:
    limits = AttemptLimits(counter=FakeAttempts(), per_address=3, per_email=100)
    for _ in range(3):
        count_attempt(limits, address="203.0.113.7", email=None, now=NOW)
    with pytest.raises(AuthRateLimited) as refused:
        count_attempt(limits, address="203.0.113.7", email=None, now=NOW)
    assert refused.value.status_code == 429 and refused.value.headers["Retry-After"] == "30"
    count_attempt(limits, address="203.0.113.8", email=None, now=NOW)  # another address is counted apart
    count_attempt(limits, address="203.0.113.7", email=None, now=NOW + 30)  # the next minute


def test_an_email_past_its_limit_is_refused_from_any_address() -> None:
    limits = AttemptLimits(counter=FakeAttempts(), per_address=100, per_email=2)
    count_attempt(limits, address="198.51.100.1", email="ada@example.com", now=NOW)
    count_attempt(limits, address="198.51.100.2", email="ada@example.com", now=NOW)
    with pytest.raises(AuthRateLimited):
        count_attempt(limits, address="198.51.100.3", email="ada@example.com", now=NOW)


def test_subjects_are_stored_hashed() -> None:
    counter = FakeAttempts()
    count_attempt(AttemptLimits(counter=counter, per_address=5, per_email=5), address="203.0.113.7",
                  email="ada@example.com", now=NOW)
    assert all("ada" not in subject and "203.0" not in subject and len(subject) == 64 for subject, _ in counter.counts)
