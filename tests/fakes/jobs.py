"""In-memory JobRepository, IdempotencyStore and JobWebhookLog (see retouch.ports).

The same conditional semantics as retouch/data/ (a claim succeeds on `queued` or an expired lease; finishing
needs the claim token; a key is reserved only while no live record holds it), nothing else.
tests/integration/core/test_fake_contract.py runs the same scenarios against the real classes on moto so these
cannot drift silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from retouch.models.common import TERMINAL_STATUSES
from retouch.models.idempotency import IdempotencyRecord
from retouch.models.records import JobError, JobRecord, PendingCall, ProducedOutputs, StoredInput, UpstreamAttempt
from retouch.models.transitions import Cancel, Finish, JobEnd
from retouch.models.webhooks import DeliveryRecord, JobWebhook
from retouch.ports import KeyTaken, SweepCandidate, WindowCount
from tests.fakes.plain import plain as _plain

if TYPE_CHECKING:
    from retouch import ports


def _drop_unfinished_fields(item: dict[str, Any]) -> None:
    for name in ("claim_token", "lease_until", "watch_at", "produced", "pending_call"):
        item.pop(name, None)


def _may_end(item: dict[str, Any], transition: JobEnd) -> bool:
    """The conditions of retouch/data/jobs.py's terminal transitions."""
    if isinstance(transition, Finish):
        return bool(item["status"] == "running" and item.get("claim_token") == transition.token)
    if "hold_pending" in item:
        return False
    if isinstance(transition, Cancel):
        return item["status"] == "queued" and "produced" not in item
    expired = item["status"] == "running" and item.get("lease_until", 0) < transition.now
    return item["status"] == "queued" or expired


class FakeIdempotencyStore:
    """IdempotencyRepository's semantics; `reserve` is what the repositories' transactions do with a key."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], IdempotencyRecord] = {}

    def check(self, record: IdempotencyRecord) -> None:
        """KeyTaken, with the holder, while a live record holds `record`'s key."""
        held = self.records.get((record.account_id, record.key_hash))
        if held is not None and held.expires_at >= record.created_at:
            raise KeyTaken(held)

    def reserve(self, record: IdempotencyRecord) -> None:
        self.check(record)
        self.records[(record.account_id, record.key_hash)] = record

    def get(self, account_id: str, key_hash: str, *, now: int) -> IdempotencyRecord | None:
        held = self.records.get((account_id, key_hash))
        return held if held is not None and held.expires_at >= now else None

    def complete(self, record: IdempotencyRecord) -> bool:
        held = self.records.get((record.account_id, record.key_hash))
        if held is None or held.job_id != record.job_id or held.state != "processing":
            return False
        self.records[(record.account_id, record.key_hash)] = held.model_copy(update={"state": "complete"})
        return True

    def release(self, record: IdempotencyRecord) -> bool:
        held = self.records.get((record.account_id, record.key_hash))
        if held is None or held.job_id != record.job_id:
            return False
        del self.records[(record.account_id, record.key_hash)]
        return True


class FakeJobRepository:
    """Job items; `webhooks`, when given, holds their `webhook` attribute (one DynamoDB item in production,
    written through JobWebhookLog), so `get` reads it back from there."""

    def __init__(self, keys: FakeIdempotencyStore | None = None, *, webhooks: FakeWebhookLog | None = None) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.keys = keys or FakeIdempotencyStore()  # where a keyed write reserves its Idempotency-Key
        self.webhooks = webhooks
        self.reads = 0
        self.attempt_writes = 0  # record_attempts calls (attempts riding on the checkpoint are not counted)
        self.redeliveries: dict[tuple[str, int], int] = {}  # (job id, window) -> manual redeliveries counted

    def create(self, record: JobRecord, key: IdempotencyRecord | None = None) -> None:
        if record.job_id in self.items:
            raise AssertionError(f"job {record.job_id} created twice")
        if key is not None:
            self.keys.reserve(key)
        item = _plain(record.model_dump(mode="json", exclude_none=True))
        if not record.is_terminal:
            item.setdefault("watch_at", record.created_at)
        self.items[record.job_id] = item

    def get(self, job_id: str) -> JobRecord | None:
        self.reads += 1
        item = self.items.get(job_id)
        if item is None:
            return None
        record = JobRecord.model_validate(_plain(item))
        return record if self.webhooks is None else record.model_copy(update={"webhook": self.webhooks.get(job_id)})

    def claim(self, job_id: str, *, token: str, now: int, lease_until: int) -> JobRecord | None:
        item = self.items.get(job_id)
        if item is None:
            return None
        expired = item["status"] == "running" and item.get("lease_until") is not None and item["lease_until"] < now
        if "hold_pending" in item or (item["status"] != "queued" and not expired):
            return None
        item.update(status="running", claim_token=token, lease_until=lease_until, watch_at=lease_until)
        item.setdefault("started_at", now)
        item["attempts"] = item.get("attempts", 0) + 1
        return self.get(job_id)

    def claim_poll(self, job_id: str, *, token: str, seq: int, lease_until: int) -> JobRecord | None:
        item = self.items.get(job_id)
        if item is None or item["status"] != "running" or "claim_token" in item \
                or (item.get("pending_call") or {}).get("seq") != seq:
            return None
        item.update(claim_token=token, lease_until=lease_until, watch_at=lease_until)
        return self.get(job_id)

    def record_attempts(self, job_id: str, *, token: str, attempts: Sequence[UpstreamAttempt]) -> bool:
        item = self._claimed(job_id, token)
        if item is None:
            return False
        self.attempt_writes += 1
        item.setdefault("upstream_attempts", []).extend(
            _plain(attempt.model_dump(mode="json", exclude_none=True)) for attempt in attempts)
        return True

    def wait_for_poll(self, job_id: str, *, token: str, pending: PendingCall, lease_until: int) -> bool:
        item = self._claimed(job_id, token)
        if item is None:
            return False
        item.update(pending_call=_plain(pending.model_dump(mode="json")), lease_until=lease_until,
                    watch_at=lease_until)
        item.pop("claim_token")
        return True

    def _claimed(self, job_id: str, token: str) -> dict[str, Any] | None:
        item = self.items.get(job_id)
        if item is None or item["status"] != "running" or item.get("claim_token") != token:
            return None
        return item

    def end(self, transition: JobEnd, *, release_micros: int, key: IdempotencyRecord | None = None) -> bool:
        if key is not None:
            self.keys.check(key)
        item = self.items.get(transition.job_id)
        if item is None or not _may_end(item, transition):
            return False
        if key is not None:
            self.keys.reserve(key)
        if isinstance(transition, Finish):
            item["status"] = transition.outcome.status
            item.update(_plain(transition.outcome.stored_fields()))
            ended_at = transition.outcome.completed_at
        elif isinstance(transition, Cancel):
            item.update(status="canceled", completed_at=transition.now)
            ended_at = transition.now
        else:
            item.update(status="failed", error=transition.error.model_dump(), completed_at=transition.now)
            ended_at = transition.now
        _drop_unfinished_fields(item)
        item.update(release_pending=release_micros, watch_at=ended_at)  # on the sweep index until confirmed
        return True

    def discard_unheld(self, job: JobRecord) -> bool:
        item = self.items.get(job.job_id)
        if item is None or "hold_pending" not in item:
            return False
        del self.items[job.job_id]
        held = self.keys.records.get((job.account_id, job.idempotency_key_hash or ""))
        if held is not None and held.job_id == job.job_id:
            self.keys.release(held)
        return True

    def renew_lease(self, job_id: str, *, token: str, lease_until: int) -> bool:
        item = self._claimed(job_id, token)
        if item is None:
            return False
        item.update(lease_until=lease_until, watch_at=lease_until)
        return True

    def record_input_sizes(self, job_id: str, *, token: str, inputs: Sequence[StoredInput],
                           mask: StoredInput | None) -> bool:
        item = self._claimed(job_id, token)
        if item is None:
            return False
        item["inputs"] = [_plain(i.model_dump(mode="json", exclude_none=True)) for i in inputs]
        if mask is not None:
            item["mask"] = _plain(mask.model_dump(mode="json", exclude_none=True))
        return True

    def record_produced(self, job_id: str, *, token: str, produced: ProducedOutputs,
                        attempts: Sequence[UpstreamAttempt] = ()) -> bool:
        item = self._claimed(job_id, token)
        if item is None:
            return False
        item["produced"] = _plain(produced.model_dump(mode="json", exclude_none=True))
        item.setdefault("upstream_attempts", []).extend(
            _plain(attempt.model_dump(mode="json", exclude_none=True)) for attempt in attempts)
        return True

    def release_for_retry(self, job_id: str, *, token: str, error: JobError, retry_at: int) -> bool:
        item = self._claimed(job_id, token)
        if item is None:
            return False
        item.update(status="queued", error=error.model_dump(), watch_at=retry_at)
        for name in ("claim_token", "lease_until", "pending_call"):
            item.pop(name, None)
        return True

    def tombstone(self, job_id: str, *, now: int) -> bool:
        item = self.items.get(job_id)
        if item is None or item["status"] not in TERMINAL_STATUSES or "deleted_at" in item:
            return False
        for name in ("metadata", "inputs", "mask", "outputs", "result", "webhook", "error", "produced"):
            item.pop(name, None)
        item.update(deleted_at=now, request={})
        return True

    def due_for_sweep(self, *, before: int, limit: int, cursor: dict[str, Any] | None = None,
                      ) -> tuple[list[SweepCandidate], dict[str, Any] | None]:
        # Index order is (watch_at, job id); a cursor is the last position read, as DynamoDB's LastEvaluatedKey.
        after = (cursor["watch_at"], cursor["job_id"]) if cursor else None
        due = sorted((item for item in self.items.values() if "watch_at" in item and item["watch_at"] < before
                      and (after is None or (item["watch_at"], item["job_id"]) > after)),
                     key=lambda item: (item["watch_at"], item["job_id"]))
        page = due[:limit]
        candidates = [SweepCandidate(job_id=item["job_id"], watch_at=item["watch_at"], created_at=item["created_at"])
                      for item in page]
        more = len(due) > limit
        return candidates, ({"watch_at": page[-1]["watch_at"], "job_id": page[-1]["job_id"]} if more else None)

    def count_redelivery(self, job_id: str, window: int, limit: int) -> WindowCount:
        count = self.redeliveries.get((job_id, window), 0)
        if count >= limit:
            return WindowCount(count, False)
        self.redeliveries[(job_id, window)] = count + 1
        return WindowCount(count + 1, True)

    def rewatch(self, job_id: str, *, seen_watch_at: int, watch_at: int) -> bool:
        item = self.items.get(job_id)
        if item is None or item.get("watch_at") != seen_watch_at:
            return False
        item["watch_at"] = watch_at
        return True

    # -- test helpers ---------------------------------------------------------------------------

    def put(self, record: JobRecord) -> None:
        """Given-state: store a record exactly as it is (any status)."""
        self.items[record.job_id] = _plain(record.model_dump(mode="json", exclude_none=True))

    @classmethod
    def holding(cls, *records: JobRecord) -> FakeJobRepository:
        """Given-state: a repository with `records` stored as they are."""
        jobs = cls()
        for record in records:
            jobs.put(record)
        return jobs

    def add(self, record: JobRecord) -> JobRecord:
        """Given-state: `put`, with the record's webhook in the webhook log."""
        self.put(record)
        if self.webhooks is not None and record.webhook is not None:
            self.webhooks.webhooks[record.job_id] = record.webhook.model_copy(deep=True)
        return record

    def set(self, job_id: str, **fields: Any) -> None:
        self.items[job_id].update(_plain(fields))


def no_events(*_args: object) -> None:
    """`announce` for tests that do not look at job events."""


class Announced(list):
    """announce(job, event_type) as the webhooks Announcer is called; `fail` makes it raise."""

    fail = False

    def __call__(self, job: Any, event_type: str | None = None) -> None:
        if self.fail:
            raise ConnectionError("webhooks queue unreachable")
        self.append((job if isinstance(job, str) else job.job_id, event_type))


class FakeWebhookLog:
    """JobWebhookLog: each job's webhook (emitted and delivered events, the delivery log)."""

    def __init__(self) -> None:
        self.webhooks: dict[str, JobWebhook] = {}

    def get(self, job_id: str) -> JobWebhook | None:
        found = self.webhooks.get(job_id)
        return found.model_copy(deep=True) if found else None

    def mark_emitted(self, job_id: str, event_type: str) -> bool:
        return self._append(job_id, "emitted", event_type)

    def mark_delivered(self, job_id: str, event_id: str) -> bool:
        return self._append(job_id, "delivered", event_id)

    def _append(self, job_id: str, name: str, value: str) -> bool:
        webhook = self.webhooks.get(job_id)
        if webhook is None or value in getattr(webhook, name):
            return False
        getattr(webhook, name).append(value)
        return True

    def record_delivery(self, job_id: str, delivery: DeliveryRecord, *, keep: int) -> None:
        webhook = self.webhooks.get(job_id)
        if webhook is not None:
            webhook.deliveries = [*webhook.deliveries, delivery][-keep:]


if TYPE_CHECKING:  # mypy checks each fake against its port
    _jobs: ports.JobRepository = FakeJobRepository()
    _keys: ports.IdempotencyStore = FakeIdempotencyStore()
    _log: ports.JobWebhookLog = FakeWebhookLog()
