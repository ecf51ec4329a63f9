"""A new job and its Idempotency-Key are one transaction, which concurrent requests under the same key cancel with
TransactionConflict while they claim the key (the SDK does not retry that): it is tried again with the same token,
and a condition failure or another error is still not."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from retouch.data.jobs import JobRepository
from retouch.models.idempotency import IdempotencyRecord
from retouch.ports import KeyTaken
from retouch.retry import CONFLICT_TRIES
from tests.fakes import job


def cancelled(*codes: str | None) -> ClientError:
    return ClientError({"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
                        "CancellationReasons": [{"Code": code} for code in codes]}, "TransactWriteItems")


class ScriptedClient:
    """Answers each TransactWriteItems with the next scripted error (None: it commits)."""

    def __init__(self, *answers: ClientError | None) -> None:
        self.answers = list(answers)
        self.tokens: list[str] = []

    def transact_write_items(self, **request: Any) -> dict[str, Any]:
        self.tokens.append(request["ClientRequestToken"])
        answer = self.answers.pop(0)
        if answer is not None:
            raise answer
        return {}


def key() -> IdempotencyRecord:
    return IdempotencyRecord(account_id="acct_1", key_hash="h", operation="images.generations", fingerprint="f",
                             job_id="job_1", state="processing", created_at=1, in_flight_until=2, expires_at=3)


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("retouch.data.jobs.time.sleep", lambda _seconds: None)


def test_a_transaction_cancelled_by_a_conflict_on_the_key_is_tried_again_with_the_same_token() -> None:
    client = ScriptedClient(cancelled(None, "TransactionConflict"), cancelled("TransactionConflict", None), None)
    JobRepository("table", client).create(job(job_id="job_1"), key=key())
    assert len(client.tokens) == 3 and len(set(client.tokens)) == 1


def test_conflicts_past_the_tries_are_raised() -> None:
    client = ScriptedClient(*[cancelled(None, "TransactionConflict")] * CONFLICT_TRIES)
    with pytest.raises(ClientError):
        JobRepository("table", client).create(job(job_id="job_1"), key=key())
    assert len(client.tokens) == CONFLICT_TRIES


def test_a_key_taken_is_not_tried_again() -> None:
    client = ScriptedClient(cancelled(None, "ConditionalCheckFailed"))
    with pytest.raises(KeyTaken):
        JobRepository("table", client).create(job(job_id="job_1"), key=key())
    assert len(client.tokens) == 1
