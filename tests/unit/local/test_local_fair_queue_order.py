"""The local SQS's fair-queue order (local/aws/sqs_fair_queues.fair_order): a quiet tenant is never behind a busy
tenant's backlog; tenants alternate; a message without a group is a tenant of its own."""

from __future__ import annotations

from dataclasses import dataclass

from local.aws.sqs_fair_queues import fair_order


@dataclass(frozen=True)
class Message:
    name: str
    group_id: str | None


def names(messages: list[Message]) -> list[str]:
    return [message.name for message in messages]


def test_a_quiet_tenants_message_goes_before_a_busy_tenants_backlog() -> None:
    # Given tenant A with 5 messages in flight and 4 waiting, then one message of tenant B
    visible = [Message(f"a{index}", "A") for index in range(4)] + [Message("b0", "B")]
    # When a consumer receives, B's message comes first, then A's in arrival order
    assert names(fair_order(visible, {"A": 5})) == ["b0", "a0", "a1", "a2", "a3"]


def test_tenants_with_backlogs_alternate() -> None:
    # Given two tenants with nothing in flight, A's backlog sent before B's
    visible = [Message(f"a{index}", "A") for index in range(3)] + [Message(f"b{index}", "B") for index in range(3)]
    # Then they are delivered round-robin, each tenant in its own arrival order
    assert names(fair_order(visible, {})) == ["a0", "b0", "a1", "b1", "a2", "b2"]


def test_a_message_without_a_group_is_a_tenant_of_its_own() -> None:
    visible = [Message("a0", "A"), Message("lone", None)]
    assert names(fair_order(visible, {"A": 1})) == ["lone", "a0"]
