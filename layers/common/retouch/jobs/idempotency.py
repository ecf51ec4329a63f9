"""Idempotency-Key (IETF httpapi draft, Stripe's behaviour) for the POSTs that create or cancel jobs.

- A key is 1-255 printable ASCII characters, scoped to the account, remembered 24 h.
- The first request under a key reserves it in the same DynamoDB transaction that writes its job (or its
  cancellation): no crash can leave a job without its key or a key without its job. A job whose price is not held
  yet (`hold_pending`) is not replayed (409, retry): if its request died, the sweeper accepts it or deletes it with
  its key (the job carries the key's hash for that). The record holds a
  fingerprint of the request (operation, parameters, SHA-256 of every input's bytes) and the job's id.
- The same request again gets the original job (`Idempotent-Replayed: true`), nothing written or charged; another
  request under the key is a 422 `idempotency_key_reused`.
- In flight: a submit's record is `processing` from the transaction until its job is queued (then `complete`). A
  request that finds it `processing` waits a few seconds for it to complete, then replays; if it is still
  processing, 409 `idempotency_key_in_use` with Retry-After. A record left `processing` by a request that died
  counts as complete once that request's function deadline (`in_flight_until`) has passed: its job exists, and
  the sweeper queues it (or, never held, deletes it and frees the key). If the first request could not queue its
  job (503, job ended), the key is released, so a retry makes a new job.

Powertools' idempotency utility is not used: it keeps its record with its own PutItem/UpdateItem, outside the
transaction that writes the job and the hold, so a crash between the two could leave a charged job without its key
(a retry would pay twice) or a key without a job.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from pydantic import BaseModel

from retouch.errors import IdempotencyKeyInUse, IdempotencyKeyReused, InvalidIdempotencyKey, JobNotFound
from retouch.models.common import now_epoch
from retouch.models.idempotency import IdempotencyRecord, KeyState
from retouch.models.records import JobRecord
from retouch.ports import IdempotencyStore, JobRepository, KeyTaken
from retouch.retry import KEY_RELEASED_TRIES

logger = Logger(child=True)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_CHARS = 255
_KEY = re.compile(rf"[\x20-\x7e]{{1,{MAX_KEY_CHARS}}}")
KEY_TTL_SECONDS = 24 * 3600
# How long a request waits for an identical one in flight to finish before answering 409 (a queue send takes ms).
IN_FLIGHT_WAIT_SECONDS = 5.0
FIRST_POLL_SECONDS = 0.05
MAX_POLL_SECONDS = 0.25
MAX_RETRY_AFTER_SECONDS = 5


def checked_key(value: str | None) -> str | None:
    """The header's key, or None without one; 400 for an empty, over-long or non-printable-ASCII key."""
    if value is None:
        return None
    if not _KEY.fullmatch(value):
        raise InvalidIdempotencyKey(f"{HEADER} must be 1-{MAX_KEY_CHARS} printable ASCII characters.", param=HEADER)
    return value


def required_key(value: str | None) -> str:
    """The header's key where a route requires one (the operator's credit adjustment: a double click must not move
    money twice); 400 without one, as for a malformed one."""
    key = checked_key(value)
    if key is None:
        raise InvalidIdempotencyKey(f"This request needs an {HEADER} header (1-{MAX_KEY_CHARS} printable ASCII "
                                    "characters, new for each new request), so that sending it again applies it "
                                    "once.", param=HEADER)
    return key


def _canonical(value: Any) -> Any:
    """JSON-able, with bytes as their SHA-256 (an image's identity, without hashing a megabyte string)."""
    if isinstance(value, BaseModel):
        return _canonical(value.model_dump(mode="python"))
    if isinstance(value, bytes):
        return {"sha256": hashlib.sha256(value).hexdigest()}
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return value


def fingerprint(operation: str, request: BaseModel | dict[str, Any]) -> str:
    """SHA-256 of the operation and the request's canonical parameters and input bytes."""
    canonical = json.dumps([operation, _canonical(request)], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class KeyedRequest:
    """A request that carries an Idempotency-Key."""

    account_id: str
    key: str
    operation: str
    fingerprint: str
    in_flight_until: int  # the latest this request's function can still be running

    @property
    def key_hash(self) -> str:
        return hashlib.sha256(self.key.encode()).hexdigest()

    def reservation(self, job_id: str, *, now: int, state: KeyState = "processing") -> IdempotencyRecord:
        return IdempotencyRecord(account_id=self.account_id, key_hash=self.key_hash, operation=self.operation,
                                 fingerprint=self.fingerprint, job_id=job_id, state=state, created_at=now,
                                 in_flight_until=max(now, self.in_flight_until), expires_at=now + KEY_TTL_SECONDS)


def keyed_request(key: str | None, account_id: str, operation: str, request: BaseModel | dict[str, Any], *,
                  seconds_left: float) -> KeyedRequest | None:
    """The request as keyed (None without a key; 400 for a malformed one); `seconds_left`: until its function's
    deadline."""
    key = checked_key(key)
    if key is None:
        return None
    return KeyedRequest(account_id=account_id, key=key, operation=operation,
                        fingerprint=fingerprint(operation, request),
                        in_flight_until=now_epoch() + int(seconds_left + 0.999))


@dataclass(frozen=True)
class Outcome:
    record: JobRecord
    replayed: bool


def _earlier_job(request: KeyedRequest, store: IdempotencyStore, held: IdempotencyRecord | None,
                 sleep: Callable[[float], None], clock: Callable[[], float]) -> str | None:
    """The job of the earlier request holding the key (to replay), or None if the key is free (again)."""
    deadline = clock() + IN_FLIGHT_WAIT_SECONDS
    interval = FIRST_POLL_SECONDS
    while held is not None:
        if held.fingerprint != request.fingerprint:
            raise IdempotencyKeyReused(
                f"This {HEADER} was already used for a different request; use a new key for a new request.",
                param=HEADER)
        now = now_epoch()
        if held.state == "complete" or held.in_flight_until < now:
            return held.job_id
        if clock() >= deadline:
            retry_after = max(1, min(MAX_RETRY_AFTER_SECONDS, held.in_flight_until - now))
            raise IdempotencyKeyInUse(f"A request with this {HEADER} is still being processed; retry shortly.",
                                      retry_after_seconds=retry_after, param=HEADER)
        sleep(interval)
        interval = min(interval * 2, MAX_POLL_SECONDS)
        held = store.get(request.account_id, request.key_hash, now=now_epoch())
    return None


def once(request: KeyedRequest | None, store: IdempotencyStore | None,
         run: Callable[[KeyedRequest | None], JobRecord], replay: Callable[[str], JobRecord], *,
         sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> Outcome:
    """`run(request)` unless an earlier request under the same key already did: then `replay(its job id)`.
    `run` writes the key with what it changes (raising KeyTaken when another request holds it)."""
    if request is None:
        return Outcome(run(None), replayed=False)
    if store is None:
        raise RuntimeError("a request with an Idempotency-Key needs the idempotency store")
    held = store.get(request.account_id, request.key_hash, now=now_epoch())
    for _ in range(KEY_RELEASED_TRIES):  # the key can be released (its job not queued) between a loss and the next look
        job_id = _earlier_job(request, store, held, sleep, clock)
        if job_id is not None:
            logger.info("idempotent replay", extra={"job_id": job_id, "operation": request.operation})
            return Outcome(replay(job_id), replayed=True)
        try:
            return Outcome(run(request), replayed=False)
        except KeyTaken as taken:  # an identical (or not) request got there first
            held = taken.existing or store.get(request.account_id, request.key_hash, now=now_epoch())
    raise IdempotencyKeyInUse(f"A request with this {HEADER} is still being processed; retry shortly.",
                              retry_after_seconds=1, param=HEADER)


def replayed_job(jobs: JobRepository, account_id: str, job_id: str) -> JobRecord:
    """The job an earlier request created under the key, as it is now; 404 once its owner deleted it."""
    record = jobs.get(job_id)
    if record is not None and record.hold_pending is not None:
        # Its request died before the job was accepted: the sweeper accepts or deletes it (and frees the key).
        raise IdempotencyKeyInUse(f"The request that used this {HEADER} is still being completed; retry shortly.",
                                  retry_after_seconds=MAX_RETRY_AFTER_SECONDS, param=HEADER)
    if record is None or record.account_id != account_id or record.deleted_at is not None:
        raise JobNotFound(f"The job created with this {HEADER} ('{job_id}') has been deleted.", param=HEADER)
    return record


def settle_reservation(store: IdempotencyStore | None, reservation: IdempotencyRecord | None, *, queued: bool) -> None:
    """After the request's job was queued (`queued`), mark the key complete; after it could not be (the job was
    ended), release the key so a retry makes a new job. Best effort: a key left `processing` is replayed once
    `in_flight_until` has passed."""
    if store is None or reservation is None:
        return
    try:
        (store.complete if queued else store.release)(reservation)
    except Exception:
        logger.exception("idempotency key not updated", extra={"job_id": reservation.job_id, "queued": queued})
