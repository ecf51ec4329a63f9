"""jobs/holds.py: a wait through API Gateway is only a preference, so slots that cannot be reached answer it at once
(held_if_free yields False); the sync entry's holding, whose caller needs the image, lets the error through."""

from __future__ import annotations

import pytest

from retouch.jobs.holds import HeldRequests


class UnreachableSlots:
    def acquire(self, account_id: str, holder: str, *, now: int, until: int) -> bool:
        raise ConnectionError("DynamoDB is unreachable")

    def release(self, account_id: str, holder: str) -> None:
        raise AssertionError("nothing was acquired")


def test_unreachable_slots_answer_a_wait_at_once() -> None:
    with HeldRequests(UnreachableSlots(), limit=5).held_if_free("acct_1", 25) as held:
        assert held is False


def test_unreachable_slots_fail_the_sync_entrys_hold() -> None:
    with pytest.raises(ConnectionError), HeldRequests(UnreachableSlots(), limit=5).holding("acct_1", 25):
        pass
