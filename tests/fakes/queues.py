"""In-memory JobQueue and WebhookQueue (see retouch.ports)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from retouch.errors import QueueUnavailable
from retouch.models.webhooks import WebhookMessage

if TYPE_CHECKING:
    from retouch import ports


class FakeJobQueue:
    def __init__(self, *, unavailable: bool = False) -> None:
        self.unavailable = unavailable
        self.sent: list[str] = []
        self.redeliveries: list[tuple[str, int]] = []
        self.polls: list[tuple[str, int, int]] = []  # delayed poll messages: (job_id, poll_seq, delay_seconds)
        self.tenants: dict[str, str | None] = {}  # job id -> the MessageGroupId its last message was sent with
        self.delays: dict[str, int] = {}  # job id -> the DelaySeconds of its last message
        self.hold_checks: list[tuple[str, str, int, int]] = []  # (job_id, account_id, micros, delay_seconds)
        self.fetches_urls: dict[str, bool | None] = {}  # job id -> what its last message said of its input URLs

    def send(self, job_id: str, *, tenant: str | None = None, delay_seconds: int = 0,
             fetches_urls: bool | None = None) -> None:
        if self.unavailable:
            raise QueueUnavailable("The job queue is unavailable; try again shortly.")
        self.sent.append(job_id)
        self.tenants[job_id] = tenant
        self.delays[job_id] = delay_seconds
        self.fetches_urls[job_id] = fetches_urls

    def delay_redelivery(self, receipt_handle: str, seconds: int) -> None:
        self.redeliveries.append((receipt_handle, seconds))

    def send_poll(self, job_id: str, seq: int, delay_seconds: int) -> None:
        self.polls.append((job_id, seq, delay_seconds))

    def send_hold_check(self, job_id: str, *, account_id: str, micros: int, delay_seconds: int) -> None:
        if self.unavailable:
            raise QueueUnavailable("The job queue is unavailable; try again shortly.")
        self.hold_checks.append((job_id, account_id, micros, delay_seconds))


@dataclass
class FakeWebhookQueue:
    sent: list[WebhookMessage] = field(default_factory=list)
    delays: list[tuple[str, int]] = field(default_factory=list)
    dead: list[tuple[WebhookMessage, str]] = field(default_factory=list)
    fail_sends: int = 0

    def send(self, message: WebhookMessage) -> None:
        if self.fail_sends:
            self.fail_sends -= 1
            raise QueueUnavailable("down")
        self.sent.append(message)

    def delay_redelivery(self, receipt_handle: str, seconds: int) -> None:
        self.delays.append((receipt_handle, seconds))

    def dead_letter(self, message: WebhookMessage, reason: str) -> None:
        self.dead.append((message, reason))


if TYPE_CHECKING:  # mypy checks each fake against its port
    _jobs_queue: ports.JobQueue = FakeJobQueue()
    _webhooks_queue: ports.WebhookQueue = FakeWebhookQueue()

