"""The local DynamoDB shows transaction conflicts as DynamoDB does (local.aws.dynamodb_contention), seen through boto3.

Each test holds one item with a transaction sent from a thread, waits until its write is visible (so the
transaction is inside its hold), then acts on the held item. The hold is long (HOLD_SECONDS) so that a slow machine
cannot let it pass between the two; the assertions are on what the requests return, never on how long they took.
On dynamodb_atomicity alone (one lock, no holds) nothing conflicts: the two conflict tests fail (checked), the other two
are the controls that must keep passing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local.aws.dynamodb_contention import CONFLICT_MESSAGE
from tests.integration.local.moto_dynamodb import moto_dynamodb, pk_sk_table

HOLD_SECONDS = 3.0
VISIBLE_WITHIN_SECONDS = 10.0


@pytest.fixture(scope="module")
def dynamodb() -> Iterator[Any]:
    # The SDK's standard retry mode, as the functions use it: it must not retry a TransactionConflictException.
    with moto_dynamodb(hold_seconds=HOLD_SECONDS, max_attempts=3, connections=8) as client:
        yield client


@pytest.fixture()
def table(dynamodb) -> str:
    name = pk_sk_table(dynamodb)
    for pk in ("account", "other"):
        dynamodb.put_item(TableName=name, Item={"pk": {"S": pk}, "sk": {"S": "A"}, "n": {"N": "0"}})
    return name


def _key(pk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": "A"}}


def _increment(table: str, pk: str) -> dict[str, Any]:
    return {"Update": {"TableName": table, "Key": _key(pk), "UpdateExpression": "ADD n :one",
                       "ExpressionAttributeValues": {":one": {"N": "1"}}}}


def _entry(table: str, entry_id: str) -> dict[str, Any]:
    return {"Put": {"TableName": table, "Item": {"pk": {"S": "entry"}, "sk": {"S": entry_id}},
                    "ConditionExpression": "attribute_not_exists(pk)"}}


def _count(dynamodb: Any, table: str, pk: str) -> int:
    item = dynamodb.get_item(TableName=table, Key=_key(pk), ConsistentRead=True)["Item"]
    return int(item["n"]["N"])


def _entry_exists(dynamodb: Any, table: str, entry_id: str) -> bool:
    key = {"pk": {"S": "entry"}, "sk": {"S": entry_id}}
    return "Item" in dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)


@contextmanager
def held_account(dynamodb: Any, table: str) -> Iterator[None]:
    """A transaction (account increment + an entry) in flight for the block: its items are held throughout."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            dynamodb.transact_write_items(TransactItems=[_increment(table, "account"), _entry(table, "holder")])
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            outcome.append(exc)

    before = _count(dynamodb, table, "account")
    thread = threading.Thread(target=run, name="holding-transaction")
    thread.start()
    deadline = time.monotonic() + VISIBLE_WITHIN_SECONDS
    while _count(dynamodb, table, "account") == before:  # reads are not blocked: the write shows at once
        assert time.monotonic() < deadline, "the holding transaction's write never showed"
        time.sleep(0.01)
    try:
        yield
    finally:
        thread.join(VISIBLE_WITHIN_SECONDS + HOLD_SECONDS)
        assert outcome == [None], outcome


def test_a_transaction_on_a_held_item_is_cancelled_with_transaction_conflict(dynamodb, table):
    # Given a transaction in flight on the account; when another transaction writes an entry and then the account
    with held_account(dynamodb, table), pytest.raises(ClientError) as cancelled:
        dynamodb.transact_write_items(TransactItems=[_entry(table, "second"), _increment(table, "account")])
    # Then it is cancelled with DynamoDB's reasons: None for the free item, TransactionConflict for the held one
    error = cancelled.value.response
    assert error["Error"]["Code"] == "TransactionCanceledException"
    assert error["CancellationReasons"] == [{"Code": "None"},
                                            {"Code": "TransactionConflict", "Message": CONFLICT_MESSAGE}]
    assert "[None, TransactionConflict]" in error["Error"]["Message"]
    # And nothing of it was written: the account has only the holder's increment, the entry is absent
    assert _count(dynamodb, table, "account") == 1
    assert not _entry_exists(dynamodb, table, "second")


def test_a_single_item_write_on_a_held_item_fails_with_transaction_conflict_and_is_not_retried(dynamodb, table):
    failures = []
    # Given a transaction in flight on the account and its entry
    with held_account(dynamodb, table):
        # When the account is updated, the entry replaced and then deleted, each by a single-item write
        for write in (
            lambda: dynamodb.update_item(TableName=table, Key=_key("account"), UpdateExpression="ADD n :one",
                                         ExpressionAttributeValues={":one": {"N": "1"}}),
            lambda: dynamodb.put_item(TableName=table, Item={"pk": {"S": "entry"}, "sk": {"S": "holder"},
                                                             "replaced": {"BOOL": True}}),
            lambda: dynamodb.delete_item(TableName=table, Key={"pk": {"S": "entry"}, "sk": {"S": "holder"}}),
        ):
            with pytest.raises(ClientError) as refused:
                write()
            failures.append(refused.value.response)
    # Then each fails with TransactionConflictException (400), which the SDK's standard retry mode does not retry
    assert [f["Error"]["Code"] for f in failures] == ["TransactionConflictException"] * 3
    assert {f["ResponseMetadata"]["HTTPStatusCode"] for f in failures} == {400}
    assert {f["ResponseMetadata"]["RetryAttempts"] for f in failures} == {0}
    # And none of them was applied
    assert _count(dynamodb, table, "account") == 1
    entry = dynamodb.get_item(TableName=table, Key={"pk": {"S": "entry"}, "sk": {"S": "holder"}})["Item"]
    assert "replaced" not in entry


def test_reads_and_writes_of_other_items_go_through_while_an_item_is_held(dynamodb, table):
    # Given a transaction in flight on the account
    with held_account(dynamodb, table):
        # When other items are written, by a transaction and by a single-item write, and the held one is read
        dynamodb.transact_write_items(TransactItems=[_increment(table, "other"), _entry(table, "elsewhere")])
        dynamodb.update_item(TableName=table, Key=_key("other"), UpdateExpression="ADD n :one",
                             ExpressionAttributeValues={":one": {"N": "1"}})
        seen = dynamodb.query(TableName=table, KeyConditionExpression="pk = :pk",
                              ExpressionAttributeValues={":pk": {"S": "account"}})["Items"]
        # Then every one of them succeeded
        assert _count(dynamodb, table, "other") == 2
        assert _entry_exists(dynamodb, table, "elsewhere")
        assert [item["n"]["N"] for item in seen] == ["1"]


def test_once_the_transaction_has_answered_its_items_take_writes_again(dynamodb, table):
    # Given a transaction that held the account and has answered
    with held_account(dynamodb, table):
        pass
    # When the account is written by a single-item write and by a transaction
    dynamodb.update_item(TableName=table, Key=_key("account"), UpdateExpression="ADD n :one",
                         ExpressionAttributeValues={":one": {"N": "1"}})
    dynamodb.transact_write_items(TransactItems=[_increment(table, "account"), _entry(table, "after")])
    # Then both went through
    assert _count(dynamodb, table, "account") == 3
    assert _entry_exists(dynamodb, table, "after")
