"""In-memory stand-ins for the data-access classes and the image provider.

Duck-typed to JobRepository, IdempotencyRepository, ObjectStore, JobQueue, FileRepository and AccountRepository:
the same methods, the same conditional semantics (a claim succeeds on `queued` or an expired lease; finishing
needs the claim token; a key is reserved only while no live record holds it), nothing else.
tests/integration/core/test_fake_contract.py runs the same scenarios against the real classes on moto so these
cannot drift silently.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from retouch.data.idempotency import KeyTaken
from retouch.data.jobs import SweepCandidate
from retouch.data.objects import ObjectHead, ObjectMissing, PresignedPost
from retouch.errors import QueueUnavailable
from retouch.models.common import TERMINAL_STATUSES
from retouch.models.idempotency import IdempotencyRecord
from retouch.models.records import (
    AccountRecord,
    ApiKeyRecord,
    FileRecord,
    JobError,
    JobRecord,
    PendingCall,
    ProducedOutputs,
    UpstreamAttempt,
)
from retouch.providers.base import InputImage, ProviderImage, ProviderResult


def _plain(value: Any) -> Any:
    """What a DynamoDB round trip leaves of a value: JSON types only."""
    return json.loads(json.dumps(value))


def _drop_unfinished_fields(item: dict[str, Any]) -> None:
    for name in ("claim_token", "lease_until", "watch_at", "produced", "pending_call"):
        item.pop(name, None)


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
    def __init__(self, keys: FakeIdempotencyStore | None = None) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.keys = keys or FakeIdempotencyStore()  # where a keyed write reserves its Idempotency-Key

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
        item = self.items.get(job_id)
        return JobRecord.model_validate(_plain(item)) if item else None

    def claim(self, job_id: str, *, token: str, now: int, lease_until: int) -> JobRecord | None:
        item = self.items.get(job_id)
        if item is None:
            return None
        expired = item["status"] == "running" and item.get("lease_until") is not None and item["lease_until"] < now
        if item["status"] != "queued" and not expired:
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

    def record_attempt(self, job_id: str, *, token: str, attempt: UpstreamAttempt) -> bool:
        item = self._claimed(job_id, token)
        if item is None:
            return False
        item.setdefault("upstream_attempts", []).append(_plain(attempt.model_dump(mode="json", exclude_none=True)))
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

    def finish(self, job_id: str, *, token: str, status: str, fields: dict[str, Any]) -> bool:
        item = self._claimed(job_id, token)
        if item is None:
            return False
        item["status"] = status
        item.update(_plain(fields))
        _drop_unfinished_fields(item)
        return True

    def renew_lease(self, job_id: str, *, token: str, lease_until: int) -> bool:
        item = self._claimed(job_id, token)
        if item is None:
            return False
        item.update(lease_until=lease_until, watch_at=lease_until)
        return True

    def record_produced(self, job_id: str, *, token: str, produced: ProducedOutputs) -> bool:
        item = self._claimed(job_id, token)
        if item is None:
            return False
        item["produced"] = _plain(produced.model_dump(mode="json", exclude_none=True))
        return True

    def release_for_retry(self, job_id: str, *, token: str, error: JobError, retry_at: int) -> bool:
        item = self._claimed(job_id, token)
        if item is None:
            return False
        item.update(status="queued", error=error.model_dump(), watch_at=retry_at)
        for name in ("claim_token", "lease_until", "pending_call"):
            item.pop(name, None)
        return True

    def cancel(self, job_id: str, *, now: int, key: IdempotencyRecord | None = None) -> bool:
        if key is not None:
            self.keys.check(key)
        item = self.items.get(job_id)
        if item is None or item["status"] != "queued" or "produced" in item:
            return False
        if key is not None:
            self.keys.reserve(key)
        item.update(status="canceled", completed_at=now)
        _drop_unfinished_fields(item)
        return True

    def fail_unfinished(self, job_id: str, *, error: JobError, now: int) -> bool:
        item = self.items.get(job_id)
        if item is None:
            return False
        expired = item["status"] == "running" and item.get("lease_until", 0) < now
        if item["status"] != "queued" and not expired:
            return False
        item.update(status="failed", error=error.model_dump(), completed_at=now)
        _drop_unfinished_fields(item)
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

    def set(self, job_id: str, **fields: Any) -> None:
        self.items[job_id].update(_plain(fields))


@dataclass
class StoredObject:
    data: bytes
    content_type: str


class FakeObjectStore:
    def __init__(self) -> None:
        self.objects: dict[str, StoredObject] = {}
        self.prefix_reads: list[tuple[str, int]] = []  # (key, length) of each ranged read
        self.whole_reads: list[str] = []

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.objects[key] = StoredObject(data, content_type)

    def get(self, key: str) -> bytes:
        if key not in self.objects:
            raise ObjectMissing(key)
        self.whole_reads.append(key)
        return self.objects[key].data

    def get_prefix(self, key: str, length: int) -> bytes:
        if key not in self.objects:
            raise ObjectMissing(key)
        self.prefix_reads.append((key, length))
        return self.objects[key].data[:length]

    def head(self, key: str) -> ObjectHead | None:
        stored = self.objects.get(key)
        if stored is None:
            return None
        return ObjectHead(size=len(stored.data), etag='"' + hashlib.md5(stored.data).hexdigest() + '"')

    def presign_post(self, key: str, *, content_type: str, size: int, expires_in: int) -> PresignedPost:
        return PresignedPost(url="https://bucket.example/", fields={
            "Content-Type": content_type, "key": key, "policy": f"size={size};expires_in={expires_in}",
            "x-amz-signature": "fake"})

    def delete(self, keys: list[str]) -> None:
        for key in keys:
            self.objects.pop(key, None)

    def keys_under(self, prefix: str) -> list[str]:
        return sorted(key for key in self.objects if key.startswith(prefix))

    def delete_prefix(self, prefix: str) -> int:
        keys = self.keys_under(prefix)
        self.delete(keys)
        return len(keys)

    def presign_get(self, key: str, expires_in: int) -> str:
        return f"https://bucket.example/{key}?X-Amz-Expires={expires_in}&X-Amz-Signature=fake"


class FakeFileRepository:
    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}

    def create(self, record: FileRecord) -> None:
        if record.file_id in self.items:
            raise AssertionError(f"file {record.file_id} created twice")
        self.items[record.file_id] = _plain(record.model_dump(mode="json", exclude_none=True))

    def get(self, file_id: str) -> FileRecord | None:
        item = self.items.get(file_id)
        return FileRecord.model_validate(_plain(item)) if item else None

    def record_check(self, file_id: str, fields: dict[str, Any]) -> FileRecord | None:
        item = self.items.get(file_id)
        if item is None:
            return None
        for name, value in _plain(fields).items():
            if value is None:
                item.pop(name, None)
            else:
                item[name] = value
        return self.get(file_id)

    def delete(self, file_id: str) -> None:
        self.items.pop(file_id, None)

    def page(self, account_id: str, *, limit: int, now: int, cursor: str | None = None,
             ) -> tuple[list[FileRecord], str | None]:
        ordered = sorted((i for i in self.items.values() if i["account_id"] == account_id),
                         key=lambda i: (i["created_at"], i["file_id"]), reverse=True)
        start = 0
        if cursor:
            owner, _, after = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
            if owner != account_id:
                raise ValueError("invalid cursor")
            start = next(n for n, item in enumerate(ordered) if item["file_id"] == after) + 1
        window = ordered[start:start + limit]
        more = start + limit < len(ordered)
        next_cursor = base64.urlsafe_b64encode(f"{account_id}|{window[-1]['file_id']}".encode()).decode() \
            if more and window else None
        return [FileRecord.model_validate(_plain(i)) for i in window if i["expires_at"] > now], next_cursor


class FakeJobQueue:
    def __init__(self, *, unavailable: bool = False) -> None:
        self.unavailable = unavailable
        self.sent: list[str] = []
        self.redeliveries: list[tuple[str, int]] = []
        self.polls: list[tuple[str, int, int]] = []  # delayed poll messages: (job_id, poll_seq, delay_seconds)

    def send(self, job_id: str) -> None:
        if self.unavailable:
            raise QueueUnavailable("The job queue is unavailable; try again shortly.")
        self.sent.append(job_id)

    def delay_redelivery(self, receipt_handle: str, seconds: int) -> None:
        self.redeliveries.append((receipt_handle, seconds))

    def send_poll(self, job_id: str, seq: int, delay_seconds: int) -> None:
        self.polls.append((job_id, seq, delay_seconds))


class FakeAccountRepository:
    def __init__(self) -> None:
        self.accounts: dict[str, AccountRecord] = {}
        self.keys: dict[str, ApiKeyRecord] = {}

    def put_account(self, account: AccountRecord) -> None:
        self.accounts[account.account_id] = account

    def get_account(self, account_id: str) -> AccountRecord | None:
        return self.accounts.get(account_id)

    def put_key(self, key: ApiKeyRecord) -> None:
        if key.key_hash in self.keys:
            raise AssertionError("key stored twice")
        self.keys[key.key_hash] = key

    def find_key(self, key_hash: str) -> ApiKeyRecord | None:
        return self.keys.get(key_hash)

    def list_keys(self, account_id: str) -> list[ApiKeyRecord]:
        return [k for k in self.keys.values() if k.account_id == account_id]

    def revoke_key(self, key: ApiKeyRecord, revoked_at: int) -> None:
        self.keys[key.key_hash] = self.keys[key.key_hash].model_copy(update={"revoked_at": revoked_at})
        account = self.accounts[key.account_id]
        self.accounts[key.account_id] = account.model_copy(
            update={"revoked_key_ids": [*account.revoked_key_ids, key.key_id]})


# -- The image provider port ----------------------------------------------------------------------


def rendered(size: str = "1024x1024", output_format: str = "png", n: int = 1) -> ProviderResult:
    """A provider result with `n` real images of `size` in `output_format`."""
    width, height = (int(v) for v in size.split("x"))
    images = []
    for _ in range(n):
        buffer = io.BytesIO()
        Image.new("RGB", (width, height), (10, 120, 200)).save(buffer, format=output_format.upper())
        images.append(ProviderImage(data=buffer.getvalue(), content_type=f"image/{output_format}"))
    return ProviderResult(images=images, usage={"total_tokens": 42}, size=size, quality="low",
                          output_format=output_format)


@dataclass
class ProviderCall:
    kind: str
    options: dict[str, Any]
    images: list[InputImage] = field(default_factory=list)
    mask: InputImage | None = None


class ScriptedProvider:
    """Answers each call with the next scripted outcome: a ProviderResult, or an exception to raise."""

    def __init__(self, *outcomes: ProviderResult | Exception) -> None:
        self.outcomes = list(outcomes)
        self.calls: list[ProviderCall] = []

    def _next(self) -> ProviderResult:
        if not self.outcomes:
            raise AssertionError("the provider was called more often than scripted")
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def edit(self, *, images: list[InputImage], mask: InputImage | None, options: dict[str, Any]) -> ProviderResult:
        self.calls.append(ProviderCall("edit", options, images, mask))
        return self._next()

    def generate(self, *, options: dict[str, Any]) -> ProviderResult:
        self.calls.append(ProviderCall("generate", options))
        return self._next()


class FakeUrls:
    """`fetch_url` for the worker: bytes per URL, recording what was fetched."""

    def __init__(self, pages: dict[str, bytes] | None = None) -> None:
        self.pages = dict(pages or {})
        self.fetched: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.fetched.append(url)
        return self.pages[url]
