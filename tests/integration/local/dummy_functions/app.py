"""Stand-in handlers for the local runtime's tests (the real functions are tested elsewhere).

The SQS handler's behaviour per message comes from its body, so one queue serves every case:
`ok`, `fail` (reported in batchItemFailures), `raise` (the invocation errors), `retry-soon`
(reported, after shortening its own visibility to 0 s), `record:<key>` (writes an S3 object, then ok).
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import boto3

COLD_START_PID = os.getpid()


def echo_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Returns what it received, so a test can check the payload-2.0 event the gateway built."""
    if event.get("rawPath") == "/bare":
        return {"bare": True}  # no statusCode: API Gateway infers a 200 JSON response
    if event.get("rawPath", "").startswith("/binary"):
        return {"statusCode": 200, "headers": {"content-type": "application/octet-stream"},
                "body": event.get("body", ""), "isBase64Encoded": event.get("isBase64Encoded", False)}
    if event.get("rawPath") == "/boom":
        raise RuntimeError("boom on purpose")
    if event.get("rawPath") == "/sleep":
        started = time.time()
        time.sleep(1)
        return {"slept": True, "pid": COLD_START_PID, "started": started, "ended": time.time()}
    if event.get("rawPath") == "/big":
        return {"statusCode": 200, "body": "x" * (7 * 1024 * 1024)}  # past Lambda's 6 MiB result
    if event.get("rawPath") == "/slow":
        time.sleep(3)  # past ShortFunction's 1 s Timeout
        return {"slept": True, "pid": COLD_START_PID}
    summary = {
        "event": {k: v for k, v in event.items() if k != "body"},
        "body_length": len(event.get("body") or ""),
        "context": {
            "function_name": context.function_name,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "remaining_ms": context.get_remaining_time_in_millis(),
            "aws_request_id": context.aws_request_id,
        },
        "environment": {k: v for k, v in os.environ.items() if k.startswith(("DUMMY_", "AWS_LAMBDA_", "POWERTOOLS_"))},
        "pid": COLD_START_PID,
    }
    return {"statusCode": 201, "headers": {"content-type": "application/json", "x-dummy": "yes"},
            "cookies": ["a=1", "b=2"], "body": json.dumps(summary)}


def authorizer_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """`Bearer allow-<name>` is authorized with context {"account": name}; anything else is not."""
    token = (event.get("headers") or {}).get("authorization", "")
    if token == "Bearer explode":
        raise RuntimeError("authorizer crashed")
    if token.startswith("Bearer allow-"):
        return {"isAuthorized": True, "context": {"account": token.removeprefix("Bearer allow-"),
                                                  "routeArn": event["routeArn"], "type": event["type"]}}
    return {"isAuthorized": False}


def sqs_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    failures = []
    for record in event["Records"]:
        body = record["body"]
        if body == "raise":
            raise RuntimeError("batch failed on purpose")
        if body == "fail":
            failures.append({"itemIdentifier": record["messageId"]})
        elif body == "retry-soon":
            queue_url = os.environ["DUMMY_QUEUE_URL"]
            boto3.client("sqs").change_message_visibility(
                QueueUrl=queue_url, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=0)
            failures.append({"itemIdentifier": record["messageId"]})
        elif body.startswith("record:"):
            boto3.client("s3").put_object(Bucket=os.environ["DUMMY_BUCKET"], Key=body.removeprefix("record:"),
                                          Body=json.dumps(record).encode())
    return {"batchItemFailures": failures}
