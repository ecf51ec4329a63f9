"""The emulation's held queue send (local.aws.sqs_faults): armed by a tag, it holds exactly one SendMessage, says so,
and on release fails it without storing the message; untagged queues are untouched."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from local.aws.moto_server import MotoServer
from local.aws.sqs_faults import FAULT_TAG, HOLD_SEND, HOLDING, RELEASE
from local.console import Console


@pytest.fixture(scope="module")
def sqs() -> Iterator[Any]:
    server = MotoServer(Console(quiet=True))
    server.start()
    try:
        endpoint = server.wait_ready(30)
        yield boto3.session.Session().client(
            "sqs", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
            aws_secret_access_key="testing", config=Config(retries={"mode": "standard", "total_max_attempts": 1}))
    finally:
        server.stop()


def tag(sqs: Any, url: str) -> str | None:
    return sqs.list_queue_tags(QueueUrl=url).get("Tags", {}).get(FAULT_TAG)


def test_a_held_send_blocks_until_released_then_fails_and_stores_nothing(sqs: Any) -> None:
    # Given a queue armed to hold its next send, and another queue
    held_url = sqs.create_queue(QueueName="held")["QueueUrl"]
    other_url = sqs.create_queue(QueueName="other")["QueueUrl"]
    sqs.tag_queue(QueueUrl=held_url, Tags={FAULT_TAG: HOLD_SEND})

    with ThreadPoolExecutor(1) as pool:
        # When a send to it starts
        sending = pool.submit(sqs.send_message, QueueUrl=held_url, MessageBody="first")
        deadline = time.monotonic() + 10
        while tag(sqs, held_url) != HOLDING and time.monotonic() < deadline:
            time.sleep(0.05)

        # Then it is held (and says so) while other sends go through
        assert tag(sqs, held_url) == HOLDING and not sending.done()
        sqs.send_message(QueueUrl=other_url, MessageBody="unaffected")

        # And when released it fails, storing nothing; the next send to that queue is normal again
        sqs.tag_queue(QueueUrl=held_url, Tags={FAULT_TAG: RELEASE})
        with pytest.raises(ClientError) as failed:
            sending.result(timeout=10)
    assert failed.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert sqs.receive_message(QueueUrl=held_url).get("Messages", []) == []
    sqs.send_message(QueueUrl=held_url, MessageBody="second")
    [message] = sqs.receive_message(QueueUrl=held_url)["Messages"]
    assert message["Body"] == "second" and tag(sqs, held_url) is None
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=other_url)["Messages"]] == ["unaffected"]
