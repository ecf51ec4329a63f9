"""local.lambdas.sqs_events: the SQS event Lambda builds, and which messages a function's answer leaves queued."""

from __future__ import annotations

import pytest

from local.lambdas.invocation import Invocation
from local.lambdas.sqs_events import build_sqs_event, messages_to_keep

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:retouch-local-jobsqueue"
IDS = ["m1", "m2", "m3"]


def received(message_id: str = "m1") -> dict:
    """A message as boto3's ReceiveMessage returns it with All attributes."""
    return {
        "MessageId": message_id,
        "ReceiptHandle": f"rh-{message_id}",
        "MD5OfBody": "0cc175b9c0f1b6a831c399e269772661",
        "Body": '{"job_id": "job_1"}',
        "Attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1700000000000", "SenderId": "AIDA",
                       "ApproximateFirstReceiveTimestamp": "1700000000100"},
        "MD5OfMessageAttributes": "abc",
        "MessageAttributes": {
            "kind": {"StringValue": "edit", "DataType": "String"},
            "blob": {"BinaryValue": b"\x00\x01", "DataType": "Binary"},
        },
    }


def test_records_have_lambdas_shape():
    event = build_sqs_event([received("m1"), received("m2")], QUEUE_ARN)
    assert [r["messageId"] for r in event["Records"]] == ["m1", "m2"]
    record = event["Records"][0]
    assert record == {
        "messageId": "m1",
        "receiptHandle": "rh-m1",
        "body": '{"job_id": "job_1"}',
        "attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1700000000000", "SenderId": "AIDA",
                       "ApproximateFirstReceiveTimestamp": "1700000000100"},
        "messageAttributes": {
            "kind": {"stringValue": "edit", "binaryValue": None, "stringListValues": [], "binaryListValues": [],
                     "dataType": "String"},
            "blob": {"stringValue": None, "binaryValue": "AAE=", "stringListValues": [], "binaryListValues": [],
                     "dataType": "Binary"},
        },
        "md5OfBody": "0cc175b9c0f1b6a831c399e269772661",
        "md5OfMessageAttributes": "abc",
        "eventSource": "aws:sqs",
        "eventSourceARN": QUEUE_ARN,
        "awsRegion": "us-east-1",
    }


def ok(payload) -> Invocation:
    return Invocation(payload, failed=False)


@pytest.mark.parametrize("payload", [None, {}, {"batchItemFailures": []}])
def test_an_empty_answer_means_every_message_succeeded(payload):
    assert messages_to_keep(ok(payload), IDS, report_batch_item_failures=True) == set()


def test_listed_failures_stay_queued_and_the_rest_are_deleted():
    answer = ok({"batchItemFailures": [{"itemIdentifier": "m2"}]})
    assert messages_to_keep(answer, IDS, report_batch_item_failures=True) == {"m2"}


@pytest.mark.parametrize("failures", [[{"itemIdentifier": "unknown"}], [{"itemIdentifier": ""}], [{}], "m1"])
def test_an_answer_naming_an_unknown_or_empty_id_fails_the_whole_batch(failures):
    answer = ok({"batchItemFailures": failures})
    assert messages_to_keep(answer, IDS, report_batch_item_failures=True) == set(IDS)


def test_a_failed_invocation_keeps_every_message():
    failed = Invocation({"errorMessage": "boom"}, failed=True)
    assert messages_to_keep(failed, IDS, report_batch_item_failures=True) == set(IDS)
    assert messages_to_keep(failed, IDS, report_batch_item_failures=False) == set(IDS)


def test_without_report_batch_item_failures_the_answer_is_ignored():
    answer = ok({"batchItemFailures": [{"itemIdentifier": "m2"}]})
    assert messages_to_keep(answer, IDS, report_batch_item_failures=False) == set()
