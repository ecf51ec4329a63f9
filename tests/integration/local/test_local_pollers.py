"""The SQS event source mapping against moto and a real function host running a dummy handler.

WorkQueue (tests/integration/local/template.yaml): visibility 1 s, maxReceiveCount 2, then WorkDeadLetterQueue.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest

from local.cloudformation.intrinsics import Resolver, parameter_values
from local.cloudformation.resources import LocalResources, ResourceCreator
from local.cloudformation.template import Template
from local.lambdas.environment import lambda_environment
from local.lambdas.function_host import FunctionHost
from local.lambdas.invocation import Invocation
from local.lambdas.sqs_poller import SqsPoller
from tests.integration.local.conftest import DUMMY_TEMPLATE


@pytest.fixture(scope="module")
def template() -> Template:
    return Template.load(DUMMY_TEMPLATE)


def create(template: Template, aws: Any) -> LocalResources:
    return ResourceCreator(template, parameter_values(template), aws, secret_value="x").create_all()


@pytest.fixture(scope="module")
def created(template, aws) -> LocalResources:
    return create(template, aws)


@pytest.fixture()
def resources(template, created, moto_url, aws) -> LocalResources:
    """Fresh resources per test, with the same names, so the module's warm consumer keeps working.

    moto's reset API rather than PurgeQueue: moto, like SQS, allows one purge per queue per minute.
    """
    httpx.post(f"{moto_url}/moto-api/reset").raise_for_status()
    return create(template, aws)


@pytest.fixture(scope="module")
def consumer(template, created, moto_url, console) -> Iterator[FunctionHost]:
    spec = template.functions["ConsumerFunction"]
    env = Resolver(template, parameter_values(template), created.physical).function_environment(spec)
    host = FunctionHost(spec, lambda_environment(spec, env, function_name="consumer", aws_endpoint_url=moto_url),
                        console)
    host.start()
    try:
        host.wait_ready(20)
        yield host
    finally:
        host.stop()


@pytest.fixture()
def poller(template, resources, consumer, aws) -> SqsPoller:
    [mapping] = template.sqs_mappings
    return SqsPoller(mapping, queue_url=resources.queues["WorkQueue"], queue_arn=resources.queue_arns["WorkQueue"],
                     sqs=aws("sqs"), invoke=lambda _fid, event: consumer.invoke(event), log=lambda _line: None)


def counts(aws, queue_url: str) -> tuple[int, int]:
    """(visible, in flight)."""
    attributes = aws("sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


def send(aws, queue_url: str, *bodies: str) -> None:
    for body in bodies:
        aws("sqs").send_message(QueueUrl=queue_url, MessageBody=body)


def test_a_successful_batch_is_deleted(poller, resources, aws):
    queue = resources.queues["WorkQueue"]
    send(aws, queue, "ok", "ok")
    assert poller.poll_once() == 2
    assert counts(aws, queue) == (0, 0)


def test_only_reported_failures_stay_and_come_back_after_the_visibility_timeout(poller, resources, aws):
    # Given a batch with one failing message, on a queue whose visibility outlasts a batch on a loaded machine
    queue = resources.queues["WorkQueue"]
    aws("sqs").set_queue_attributes(QueueUrl=queue, Attributes={"VisibilityTimeout": "4"})
    send(aws, queue, "ok", "fail")
    # When it is processed
    assert poller.poll_once() == 2
    # Then only the failure is left, in flight
    assert counts(aws, queue) == (0, 1)
    # And it is delivered again once the 4 s visibility timeout passes
    time.sleep(4.2)
    again = aws("sqs").receive_message(QueueUrl=queue, MessageSystemAttributeNames=["All"], WaitTimeSeconds=1)
    [message] = again["Messages"]
    assert (message["Body"], message["Attributes"]["ApproximateReceiveCount"]) == ("fail", "2")


def test_an_invocation_error_deletes_nothing(poller, resources, aws):
    queue = resources.queues["WorkQueue"]
    send(aws, queue, "ok", "raise")
    assert poller.poll_once() == 2
    # Both still on the queue: in flight, or visible again if the 1 s visibility already ran out (a loaded machine)
    assert sum(counts(aws, queue)) == 2


def test_a_message_failing_max_receive_count_times_moves_to_the_dead_letter_queue(poller, resources, aws):
    # Given a message that always fails, on a queue with maxReceiveCount 2
    queue, dlq = resources.queues["WorkQueue"], resources.queues["WorkDeadLetterQueue"]
    send(aws, queue, "fail")
    # When it has been received twice
    assert poller.poll_once() == 1
    time.sleep(1.2)
    assert poller.poll_once() == 1
    time.sleep(1.2)
    # Then the next receive redrives it (moto implements RedrivePolicy) instead of delivering it
    assert poller.poll_once() == 0
    assert counts(aws, queue) == (0, 0)
    [moved] = aws("sqs").receive_message(QueueUrl=dlq, WaitTimeSeconds=1)["Messages"]
    assert moved["Body"] == "fail"


def test_a_function_can_shorten_a_failed_messages_visibility(poller, resources, aws):
    # Given a queue whose visibility timeout would hide a failure for a minute
    queue = resources.queues["WorkQueue"]
    aws("sqs").set_queue_attributes(QueueUrl=queue, Attributes={"VisibilityTimeout": "60"})
    send(aws, queue, "retry-soon")
    # When the function reports it failed after ChangeMessageVisibility(0)
    assert poller.poll_once() == 1
    # Then it is delivered again at once
    assert poller.poll_once() == 1


def test_poller_threads_drain_the_queue_and_stop_within_seconds(poller, resources, aws):
    # Given work on the queue and running poller threads
    send(aws, resources.queues["WorkQueue"], *(f"record:item-{i}" for i in range(6)))
    poller.start()
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and _object_count(aws, resources) < 6:
            time.sleep(0.1)
        assert _object_count(aws, resources) == 6
    finally:
        # When they are stopped
        started = time.monotonic()
        poller.signal_stop()
        poller.join()
    # Then they are gone within the long-poll wait
    assert time.monotonic() - started < 3
    assert not any(t.is_alive() for t in poller._threads)


def _object_count(aws: Any, resources: LocalResources) -> int:
    return aws("s3").list_objects_v2(Bucket=resources.buckets["Bucket"]).get("KeyCount", 0)


# -- Gathering a batch as Lambda's event source does (BatchSize, MaximumBatchingWindowInSeconds) -------------------


def gathering(poller: SqsPoller, aws: Any, queue: str, *, batch_size: int, window: int) -> SqsPoller:
    """The same mapping with another batch and window; visibility long enough that nothing returns mid-window."""
    aws("sqs").set_queue_attributes(QueueUrl=queue, Attributes={"VisibilityTimeout": "60"})
    return SqsPoller(replace(poller.mapping, batch_size=batch_size, batching_window_seconds=window),
                     queue_url=queue, queue_arn="arn:aws:sqs:us-east-1:123456789012:work", sqs=aws("sqs"),
                     invoke=lambda _fid, _event: Invocation(None, failed=False), log=lambda _line: None)


def test_a_batching_window_gathers_messages_sent_after_the_first(poller, resources, aws):
    # Given a mapping of 3 records with a 20 s window, and one message on the queue
    queue = resources.queues["WorkQueue"]
    batcher = gathering(poller, aws, queue, batch_size=3, window=20)
    send(aws, queue, "first")
    gathered: list[list[dict[str, Any]]] = []
    thread = threading.Thread(target=lambda: gathered.append(batcher.gather_batch()))
    thread.start()

    # When two more arrive once the first is being held for the batch
    deadline = time.monotonic() + 10
    while counts(aws, queue) != (0, 1) and time.monotonic() < deadline:
        time.sleep(0.05)
    send(aws, queue, "second", "third")
    thread.join(30)

    # Then one batch holds all three (it closed when full, not at the window's end)
    [batch] = gathered
    assert sorted(m["Body"] for m in batch) == ["first", "second", "third"]


def test_a_batch_over_ten_records_takes_several_receives(poller, resources, aws):
    # Given 12 messages and a mapping of 12 records with a window (over 10 needs one, as in Lambda)
    queue = resources.queues["WorkQueue"]
    send(aws, queue, *(f"m{i}" for i in range(12)))

    # When a batch is gathered
    batch = gathering(poller, aws, queue, batch_size=12, window=20).gather_batch()

    # Then it holds all 12 (SQS gives at most 10 a receive)
    assert sorted(m["Body"] for m in batch) == sorted(f"m{i}" for i in range(12))


def test_a_batch_closes_at_the_end_of_its_window_with_what_came(poller, resources, aws):
    # Given one message and a mapping of 5 records with a 1 s window
    queue = resources.queues["WorkQueue"]
    send(aws, queue, "alone")

    # When a batch is gathered
    batch = gathering(poller, aws, queue, batch_size=5, window=1).gather_batch()

    # Then the window's end invokes with the one message
    assert [m["Body"] for m in batch] == ["alone"]


def test_without_a_window_a_batch_is_one_receive(poller, resources, aws):
    # Given 3 messages and a mapping of 10 records without a window
    queue = resources.queues["WorkQueue"]
    send(aws, queue, "a", "b", "c")

    # When a batch is gathered
    batch = gathering(poller, aws, queue, batch_size=10, window=0).gather_batch()

    # Then it is what one receive returned, at once
    assert 1 <= len(batch) <= 3
