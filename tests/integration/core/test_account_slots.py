"""Per-account slots (the fetching share of the workers, the synchronous entry's holds): AccountSlotRepository on moto
and the unit tier's FakeAccountSlots obey the same rules."""

from __future__ import annotations

from typing import Any

import pytest

from retouch.data.account_slots import AccountSlotRepository
from tests.builders import new_account_id
from tests.fakes import FakeAccountSlots
from tests.integration.core.aws_stack import Stack, client

NOW = 1_800_000_000


@pytest.fixture(params=["fake", "dynamodb"])
def slots(request: pytest.FixtureRequest) -> Any:
    if request.param == "fake":
        return FakeAccountSlots(2)
    stack: Stack = request.getfixturevalue("stack")
    return AccountSlotRepository(stack.table, kind="URL_FETCH", count=2, client=client("dynamodb"))


def test_an_account_holds_at_most_its_slots_and_others_are_unaffected(slots: Any) -> None:
    account = new_account_id()
    assert slots.acquire(account, "job_a", now=NOW, until=NOW + 30)
    assert slots.acquire(account, "job_b", now=NOW, until=NOW + 30)
    assert not slots.acquire(account, "job_c", now=NOW, until=NOW + 30)
    assert slots.acquire(account, "job_a", now=NOW, until=NOW + 60)  # a holder taking its own slot again
    assert slots.acquire(new_account_id(), "job_c", now=NOW, until=NOW + 30)


def test_a_released_or_expired_slot_is_free_again(slots: Any) -> None:
    account = new_account_id()
    assert slots.acquire(account, "job_a", now=NOW, until=NOW + 30)
    assert slots.acquire(account, "job_b", now=NOW, until=NOW + 60)
    slots.release(account, "job_b")
    assert slots.acquire(account, "job_c", now=NOW, until=NOW + 60)
    assert not slots.acquire(account, "job_d", now=NOW + 30, until=NOW + 60)
    assert slots.acquire(account, "job_d", now=NOW + 31, until=NOW + 90)  # job_a's lease ended (its worker died)
    slots.release(account, "job_gone")  # holding nothing: no error
