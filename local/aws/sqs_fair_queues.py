"""SQS fair queues, as the local emulation's standard queues deliver: one tenant's backlog does not delay another's.

AWS identifies a tenant by each message's MessageGroupId (a message without one is a tenant of its own) and, when a
tenant holds a disproportionate share of the queue's in-flight messages, delivers the other tenants' messages first
(docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-fair-queues.html). moto delivers in arrival
order. The model here is AWS's rule without its thresholds (AWS flags a tenant past ~10 % of the in-flight messages
and 30 of its own, or a tenth of the consumers' recent time): every receive takes first the messages whose tenant
has the fewest in flight, counting the ones this ordering puts ahead of it, so tenants alternate (round-robin) and
a quiet tenant's message is never behind a busy tenant's backlog. Within a tenant, arrival order is kept. FIFO
queues are untouched (their groups are ordering, not tenants).

Written against moto 5.2.6 (local.aws.MOTO_VERSION): replaces the `Queue.messages` property that
`SQSBackend.receive_message` walks, and reads `Queue._pending_messages` (received, not deleted) for what is in
flight.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, TypeVar

_installed = False


class _Grouped(Protocol):
    @property
    def group_id(self) -> str | None: ...


_Message = TypeVar("_Message", bound=_Grouped)


def fair_order(visible: Sequence[_Message], in_flight: Mapping[str, int]) -> list[_Message]:
    """`visible` (in arrival order) in the order a fair queue delivers them: by how many of its tenant's messages are
    in flight or ahead of it, then by arrival."""
    ahead: Counter[str] = Counter()
    ranked: list[tuple[int, int, _Message]] = []
    for arrival, message in enumerate(visible):
        tenant = message.group_id
        if tenant is None:  # a tenant of its own: nothing of it in flight
            rank = 0
        else:
            rank = in_flight.get(tenant, 0) + ahead[tenant]
            ahead[tenant] += 1
        ranked.append((rank, arrival, message))
    ranked.sort(key=lambda entry: (entry[0], entry[1]))
    return [message for _, _, message in ranked]


def install() -> None:
    """Patch moto's standard queues to deliver fairly (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    from moto.sqs.models import Queue

    arrival_order = Queue.messages.fget
    assert arrival_order is not None

    def messages(self: Any) -> list[Any]:
        visible: list[Any] = arrival_order(self)
        if self.fifo_queue:
            return visible
        in_flight = Counter(message.group_id for message in list(self._pending_messages)
                            if message.group_id is not None and not message.visible)
        return fair_order(visible, in_flight)

    Queue.messages = property(messages)  # type: ignore[method-assign,assignment]
