"""The local DynamoDB keeps every write under concurrency (local.aws.dynamodb_atomicity), as DynamoDB does per request.

Unpatched, moto's TransactWriteItems restores whole-table copies when a transaction is cancelled, so concurrent
requests undo each other: this test then loses independent puts and counter increments, and sees 500s.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.local.moto_dynamodb import moto_dynamodb, pk_sk_table

THREADS = 8
ROUNDS = 40


@pytest.fixture(scope="module")
def dynamodb() -> Iterator[Any]:
    # No holds: these threads overlap transactions on one counter on purpose, to test per-request atomicity; with
    # holds they would conflict, as in AWS (tests/integration/local/test_moto_contention.py).
    with moto_dynamodb(hold_seconds=0, max_attempts=1, connections=THREADS * 2) as client:
        yield client


@pytest.fixture()
def table(dynamodb) -> str:
    name = pk_sk_table(dynamodb)
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "counter"}, "sk": {"S": "c"}, "n": {"N": "0"}})
    return name


def _increment_with_entry(table: str, entry_id: str, *, doomed: bool) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = [
        {"Update": {"TableName": table, "Key": {"pk": {"S": "counter"}, "sk": {"S": "c"}},
                    "UpdateExpression": "ADD n :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        {"Put": {"TableName": table, "Item": {"pk": {"S": "entry"}, "sk": {"S": entry_id}},
                 "ConditionExpression": "attribute_not_exists(pk)"}},
    ]
    if doomed:  # a condition that fails: the whole transaction is cancelled and undone
        items.append({"ConditionCheck": {"TableName": table, "Key": {"pk": {"S": "missing"}, "sk": {"S": "x"}},
                                         "ConditionExpression": "attribute_exists(pk)"}})
    return items


def test_concurrent_transactions_and_puts_keep_every_committed_write(dynamodb, table):
    # Given 8 threads, each mixing committed transactions, cancelled ones and plain puts on the same table
    committed: list[str] = []
    plain: list[str] = []
    unexpected: list[str] = []
    lock = threading.Lock()

    def work(worker: int) -> None:
        for round_ in range(ROUNDS):
            entry_id = f"{worker}-{round_}"
            doomed = round_ % 3 == 0
            try:
                dynamodb.transact_write_items(TransactItems=_increment_with_entry(table, entry_id, doomed=doomed))
                with lock:
                    committed.append(entry_id)
            except ClientError as exc:
                code = exc.response["Error"]["Code"]
                if not (doomed and code == "TransactionCanceledException"):
                    with lock:
                        unexpected.append(f"{entry_id}: {code} {exc}")
            key = f"plain-{worker}-{round_}"
            dynamodb.put_item(TableName=table, Item={"pk": {"S": "plain"}, "sk": {"S": key}})
            with lock:
                plain.append(key)

    # When they all run at once
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(work, range(THREADS)))

    # Then only the doomed transactions failed, and every committed write is there exactly once
    assert unexpected == []
    counter = dynamodb.get_item(TableName=table, Key={"pk": {"S": "counter"}, "sk": {"S": "c"}},
                                ConsistentRead=True)["Item"]
    assert int(counter["n"]["N"]) == len(committed) == THREADS * (ROUNDS - len(range(0, ROUNDS, 3)))
    entries = _sort_keys(dynamodb, table, "entry")
    assert entries == sorted(committed)
    assert _sort_keys(dynamodb, table, "plain") == sorted(plain)


def test_a_cancelled_transaction_leaves_the_items_it_touched_as_they_were(dynamodb, table):
    # Given an entry that exists already
    dynamodb.transact_write_items(TransactItems=_increment_with_entry(table, "e1", doomed=False))
    # When a transaction updates the counter and then fails on its put of that same entry
    with pytest.raises(ClientError) as failure:
        dynamodb.transact_write_items(TransactItems=_increment_with_entry(table, "e1", doomed=False))
    # Then it is cancelled with the put's reason, and the counter's update was undone
    reasons = [r["Code"] for r in failure.value.response["CancellationReasons"]]
    assert reasons == ["None", "ConditionalCheckFailed"]
    counter = dynamodb.get_item(TableName=table, Key={"pk": {"S": "counter"}, "sk": {"S": "c"}})["Item"]
    assert counter["n"] == {"N": "1"}


def test_a_transaction_with_an_item_of_two_operations_is_refused_before_anything_is_written(dynamodb, table):
    # Given a transaction whose first item is a valid update and whose second names two operations
    items = _increment_with_entry(table, "two-ops", doomed=False)
    items[1] = {**items[1], "Delete": {"TableName": table, "Key": {"pk": {"S": "entry"}, "sk": {"S": "two-ops"}}}}
    # When it is sent, DynamoDB refuses the request as invalid
    with pytest.raises(ClientError) as failure:
        dynamodb.transact_write_items(TransactItems=items)
    assert failure.value.response["Error"]["Code"] == "ValidationException"
    # Then the first item's update was never applied
    counter = dynamodb.get_item(TableName=table, Key={"pk": {"S": "counter"}, "sk": {"S": "c"}})["Item"]
    assert counter["n"] == {"N": "0"}
    assert "two-ops" not in _sort_keys(dynamodb, table, "entry")


def test_a_client_request_token_makes_a_retried_transaction_succeed_without_writing_twice(dynamodb, table):
    token = uuid.uuid4().hex
    items = _increment_with_entry(table, "once", doomed=False)
    # When the same transaction is sent twice with one token (an SDK retry after a lost response)
    dynamodb.transact_write_items(TransactItems=items, ClientRequestToken=token)
    dynamodb.transact_write_items(TransactItems=items, ClientRequestToken=token)
    # Then both succeed and it was applied once
    counter = dynamodb.get_item(TableName=table, Key={"pk": {"S": "counter"}, "sk": {"S": "c"}})["Item"]
    assert counter["n"] == {"N": "1"}
    # And the same token with another request is refused, as DynamoDB does
    with pytest.raises(ClientError) as mismatch:
        dynamodb.transact_write_items(TransactItems=_increment_with_entry(table, "other", doomed=False),
                                      ClientRequestToken=token)
    assert mismatch.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
    assert _sort_keys(dynamodb, table, "entry") == ["once"]


def _sort_keys(dynamodb: Any, table: str, pk: str) -> list[str]:
    keys: list[str] = []
    for page in dynamodb.get_paginator("query").paginate(
            TableName=table, ConsistentRead=True, KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": pk}}):
        keys += [item["sk"]["S"] for item in page["Items"]]
    return sorted(keys)
