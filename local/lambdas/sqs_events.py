"""Lambda's SQS event source, the pure part: messages to an event, a function's answer to what stays queued."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any

from local.cloudformation.intrinsics import REGION
from local.lambdas.invocation import Invocation


def _message_attribute(attribute: dict[str, Any]) -> dict[str, Any]:
    """boto3's `StringValue`/`BinaryValue` (bytes) become Lambda's camelCase, binary as base64."""
    binary = attribute.get("BinaryValue")
    return {
        "stringValue": attribute.get("StringValue"),
        "binaryValue": base64.b64encode(binary).decode() if binary is not None else None,
        "stringListValues": list(attribute.get("StringListValues") or []),
        "binaryListValues": [base64.b64encode(v).decode() for v in attribute.get("BinaryListValues") or []],
        "dataType": attribute["DataType"],
    }


def build_sqs_event(messages: Iterable[dict[str, Any]], queue_arn: str, region: str = REGION) -> dict[str, Any]:
    """`messages` as ReceiveMessage returns them (with All system and message attributes)."""
    records = []
    for message in messages:
        record = {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": dict(message.get("Attributes") or {}),
            "messageAttributes": {
                name: _message_attribute(value) for name, value in (message.get("MessageAttributes") or {}).items()
            },
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn,
            "awsRegion": region,
        }
        if message.get("MD5OfMessageAttributes"):
            record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
        records.append(record)
    return {"Records": records}


def messages_to_keep(invocation: Invocation, message_ids: list[str], report_batch_item_failures: bool) -> set[str]:
    """Ids that must not be deleted (they come back after the visibility timeout); the rest succeeded.

    As in Lambda: a failed invocation keeps the whole batch; with ReportBatchItemFailures only the
    listed items stay, and an answer naming an unknown or empty id fails the whole batch.
    """
    everything = set(message_ids)
    if invocation.failed:
        return everything
    if not report_batch_item_failures:
        return set()
    payload = invocation.payload
    if payload is None or payload == {}:
        return set()
    failures = payload.get("batchItemFailures") if isinstance(payload, dict) else None
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return everything
    keep = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in everything:
            return everything
        keep.add(identifier)
    return keep
