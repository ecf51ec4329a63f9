"""The local SQS (moto with local/aws/sqs_fair_queues) delivers a standard queue's messages fairly across
MessageGroupIds, as SQS fair queues do: one tenant's backlog does not delay another tenant's message."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from local.aws.moto_server import MotoServer
from local.console import Console


@pytest.fixture(scope="module")
def sqs() -> Iterator[Any]:
    server = MotoServer(Console(quiet=True))
    server.start()
    try:
        endpoint = server.wait_ready(30)
        yield boto3.session.Session().client("sqs", endpoint_url=endpoint, region_name="us-east-1",
                                             aws_access_key_id="testing", aws_secret_access_key="testing")
    finally:
        server.stop()


def send(sqs: Any, queue_url: str, body: str, tenant: str) -> None:
    sqs.send_message(QueueUrl=queue_url, MessageBody=body, MessageGroupId=tenant)


def receive(sqs: Any, queue_url: str, most: int) -> list[str]:
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=most).get("Messages", [])
    return [message["Body"] for message in messages]


def test_a_quiet_tenants_message_is_received_before_a_noisy_tenants_backlog(sqs: Any) -> None:
    # Given a standard queue where tenant A sent 10 messages, 3 of which a consumer holds in flight
    queue_url = sqs.create_queue(QueueName=f"jobs-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    for index in range(10):
        send(sqs, queue_url, f"a{index}", "tenant-a")
    assert receive(sqs, queue_url, 3) == ["a0", "a1", "a2"]
    # When tenant B sends one message and a consumer receives the next one
    send(sqs, queue_url, "b0", "tenant-b")
    # Then it is B's, not the fourth of A's backlog
    assert receive(sqs, queue_url, 1) == ["b0"]
    assert receive(sqs, queue_url, 2) == ["a3", "a4"]
