"""The ports: what the domain (jobs, billing, files, webhooks, web) needs from storage, queues and the image API.

Each is a Protocol; the AWS implementations in retouch/data/ (same class names) and the in-memory fakes in
tests/fakes/ satisfy them structurally, and mypy checks both. tests/integration/core/test_fake_contract.py and
test_port_contracts.py run the same scenarios on the fakes and on moto for every port.

A port owns its vocabulary: the values it returns and takes (ObjectHead, SweepCandidate, JobFilter, RateCount, ...)
and the failures it signals (KeyTaken, ObjectMissing, AccountMissing, HoldRefused, ...) are part of its contract, so
they are declared here, each just above the Protocol that speaks it, and the adapters in retouch/data/ import them
from here (adapters depend on ports, never the reverse). They stay in this one module rather than a separate types
module because a reader of a Protocol then has every name its signatures use on the same screen, and they are few
and small: plain dataclasses and exceptions, with no knowledge of items, keys or expressions (that stays in data/).
So no domain module needs `retouch.data` (tests/unit/test_data_layer_imports.py holds every module to it).
The ledger speaks Movement, HoldRefused and CreditRefused; a job's end is a typed transition
(retouch/models/transitions.py) that the adapter turns into its expression.

The upstream port (every image API's adapter) is retouch.providers.upstream.UpstreamAdapter (re-exported here).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

from retouch.providers.upstream import UpstreamAdapter

if TYPE_CHECKING:
    from retouch.models.account_records import AccountRecord, ApiKeyRecord, LedgerEntry
    from retouch.models.client_tokens import ClientTokenRecord
    from retouch.models.end_users import EndUserLimits, EndUserRecord
    from retouch.models.erasures import ErasureRecord
    from retouch.models.idempotency import IdempotencyRecord
    from retouch.models.records import (
        FileRecord,
        JobError,
        JobRecord,
        PendingCall,
        ProducedOutputs,
        StoredInput,
        UpstreamAttempt,
    )
    from retouch.models.transitions import JobEnd
    from retouch.models.webhooks import AccountWebhookSettings, DeliveryRecord, JobWebhook, WebhookMessage

__all__ = ["MAX_EPOCH", "AccountJobs", "AccountMissing", "AccountRepository", "CreditRefused", "CreditWritten",
           "FileRepository", "HoldRefused", "IdempotencyStore", "JobFilter", "JobHistory", "JobQueue", "JobRepository",
           "JobWebhookLog", "KeyTaken", "Ledger", "LedgerReader", "Movement", "ObjectHead", "ObjectMissing",
           "ObjectStore", "PresignedPost", "RateCount", "RateCounter", "SettingsConflict", "SweepCandidate",
           "UpstreamAdapter", "WebhookQueue", "WebhookSettingsRepository"]


class KeyTaken(Exception):
    """An Idempotency-Key is held by an earlier request's record (`existing`, when the store returned it). Raised by
    a keyed write (JobRepository.create and cancel, the Ledger's movements); nothing was written."""

    def __init__(self, existing: IdempotencyRecord | None) -> None:
        super().__init__("idempotency key taken")
        self.existing = existing


@dataclass(frozen=True)
class SweepCandidate:
    """What the sweep index holds of an unfinished job: enough to decide, the rest is read when acting."""

    job_id: str
    watch_at: int
    created_at: int


# ---- the ledger's vocabulary ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Movement:
    """What one balance move did: `applied` False when it had been done before (the hold was there already, or
    was gone); `balance_after_micros` as the move's own atomic update returned it (None when not applied);
    `tries` counts the attempts (a credit's transaction in flight makes a move wait)."""

    applied: bool
    balance_after_micros: int | None
    tries: int = 1


class HoldRefused(Exception):
    """The account would not hold the price: suspended or missing, short of credit, or at its in-flight limit.
    `current` is the account as the refused update saw it (None when it does not exist). Nothing was written."""

    def __init__(self, current: AccountRecord | None) -> None:
        super().__init__("hold refused")
        self.current = current


class CreditRefused(Exception):
    """The credit (a negative correction) would take the balance below zero, or the account does not exist."""

    def __init__(self, current: AccountRecord | None) -> None:
        super().__init__("credit refused")
        self.current = current


class CreditWritten(Exception):
    """A credit whose entry id is taken: it was written before (an operator's idempotent adjustment, replayed).
    Nothing was written now."""

    def __init__(self, entry_id: str) -> None:
        super().__init__(f"credit {entry_id} was written already")
        self.entry_id = entry_id


class JobRepository(Protocol):
    """Job records with conditional transitions: a claim succeeds on `queued` (with its hold confirmed) or an
    expired lease; finishing needs the claim token. A job ends by `end(JobEnd)`, which records what its hold gives
    back (`release_pending`) for billing to move and confirm."""

    def create(self, record: JobRecord, key: IdempotencyRecord | None = None) -> None: ...
    def end(self, transition: JobEnd, *, release_micros: int, key: IdempotencyRecord | None = None) -> bool: ...
    def discard_unheld(self, job: JobRecord) -> bool: ...
    def get(self, job_id: str) -> JobRecord | None: ...
    def claim(self, job_id: str, *, token: str, now: int, lease_until: int) -> JobRecord | None: ...
    def renew_lease(self, job_id: str, *, token: str, lease_until: int) -> bool: ...
    # The measured sizes of inputs sent by URL, kept for the job's charge (jobs/inputs_loading.py).
    def record_input_sizes(self, job_id: str, *, token: str, inputs: Sequence[StoredInput],
                           mask: StoredInput | None) -> bool: ...
    def record_produced(self, job_id: str, *, token: str, produced: ProducedOutputs,
                        attempts: Sequence[UpstreamAttempt] = ()) -> bool: ...
    def release_for_retry(self, job_id: str, *, token: str, error: JobError, retry_at: int) -> bool: ...
    def claim_poll(self, job_id: str, *, token: str, seq: int, lease_until: int) -> JobRecord | None: ...
    def record_attempts(self, job_id: str, *, token: str, attempts: Sequence[UpstreamAttempt]) -> bool: ...
    def wait_for_poll(self, job_id: str, *, token: str, pending: PendingCall, lease_until: int) -> bool: ...
    def tombstone(self, job_id: str, *, now: int) -> bool: ...
    def due_for_sweep(self, *, before: int, limit: int, cursor: dict[str, Any] | None = None,
                      ) -> tuple[list[SweepCandidate], dict[str, Any] | None]: ...
    def rewatch(self, job_id: str, *, seen_watch_at: int, watch_at: int) -> bool: ...


@dataclass(frozen=True)
class WindowCount:
    """One more counted in a fixed window: the count there and whether it was admitted (under the limit)."""

    count: int
    admitted: bool


class RedeliveryCounter(Protocol):
    """Counts a manual webhook redelivery in the job's fixed `window`, on the job item, up to `limit`."""

    def count_redelivery(self, job_id: str, window: int, limit: int) -> WindowCount: ...


class ReadCounter(Protocol):
    """Counts a request other than a submission in the account's one-minute `window`, up to `limit`."""

    def count_read(self, account_id: str, window: int, limit: int) -> WindowCount: ...


class IdempotencyStore(Protocol):
    """Idempotency-Key records (reserved by the job and ledger writes themselves; see jobs/idempotency)."""

    def get(self, account_id: str, key_hash: str, *, now: int) -> IdempotencyRecord | None: ...
    def complete(self, record: IdempotencyRecord) -> bool: ...
    def release(self, record: IdempotencyRecord) -> bool: ...


class ObjectMissing(LookupError):
    """No object under that key (e.g. removed by the bucket's lifecycle rule)."""


@dataclass(frozen=True)
class ObjectHead:
    size: int
    etag: str


@dataclass(frozen=True)
class PresignedPost:
    """A browser-style upload: POST `url` as multipart/form-data with `fields`, then the file as `file`."""

    url: str
    fields: dict[str, str]


class ObjectStore(Protocol):
    """Input and output images; ObjectMissing for a key with no object."""

    def put(self, key: str, data: bytes | BinaryIO, content_type: str) -> None: ...
    def get(self, key: str) -> bytes: ...
    def get_file(self, key: str) -> BinaryIO: ...
    def get_prefix(self, key: str, length: int) -> bytes: ...
    def head(self, key: str) -> ObjectHead | None: ...
    def copy_if_unchanged(self, source: str, dest: str, etag: str) -> ObjectHead | None: ...
    def delete(self, keys: list[str]) -> None: ...
    def keys_under(self, prefix: str) -> list[str]: ...
    def delete_prefix(self, prefix: str) -> int: ...
    def presign_get(self, key: str, expires_in: int) -> str: ...
    def presign_post(self, key: str, *, content_type: str, size: int, expires_in: int) -> PresignedPost: ...


class JobQueue(Protocol):
    """The jobs queue; QueueUnavailable when a message cannot be sent."""

    # `tenant`: the account whose job it is (SQS fair queues' MessageGroupId); None, a tenant of its own.
    # `fetches_urls`: whether running the job fetches input URLs, when the sender knows (models/messages.py).
    def send(self, job_id: str, *, tenant: str | None = None, delay_seconds: int = 0,
             fetches_urls: bool | None = None) -> None: ...
    def delay_redelivery(self, receipt_handle: str, seconds: int) -> None: ...
    # The delayed check for a discarded job's hold landing late (jobs/late_holds.py).
    def send_hold_check(self, job_id: str, *, account_id: str, micros: int, delay_seconds: int) -> None: ...


class AccountSlots(Protocol):
    """At most N holders per account at once, each a lease that ends by itself (data/account_slots.py)."""

    def acquire(self, account_id: str, holder: str, *, now: int, until: int) -> bool: ...
    def release(self, account_id: str, holder: str) -> None: ...


class FileRepository(Protocol):
    def create(self, record: FileRecord) -> None: ...
    def get(self, file_id: str) -> FileRecord | None: ...
    def record_check(self, file_id: str, fields: dict[str, Any]) -> FileRecord | None: ...
    def delete(self, file_id: str) -> None: ...
    def page(self, account_id: str, *, limit: int, now: int, cursor: str | None = None, end_user: str | None = None,
             ) -> tuple[list[FileRecord], str | None]: ...


class AccountRepository(Protocol):
    """Accounts as the authorizer and the admin see them, and API-key hashes."""

    def put_account(self, account: AccountRecord) -> None: ...
    def get_account(self, account_id: str) -> AccountRecord | None: ...
    def put_key(self, key: ApiKeyRecord) -> None: ...
    def find_key(self, key_hash: str) -> ApiKeyRecord | None: ...
    def list_keys(self, account_id: str) -> list[ApiKeyRecord]: ...
    def revoke_key(self, key: ApiKeyRecord, revoked_at: int) -> None: ...
    def set_key_cost_ceiling(self, key: ApiKeyRecord, max_cost_per_call_micros: int | None) -> ApiKeyRecord: ...


class AccountMissing(Exception):
    """No account with that id (counting a request, or setting an account's limits or status)."""


@dataclass(frozen=True)
class RateCount:
    """The account as counting one more request left it, the count in its window, and whether it was admitted."""

    account: AccountRecord
    count: int
    admitted: bool


class RateCounter(Protocol):
    """Counts a request in the account's one-minute window; AccountMissing for no account."""

    def count_request(self, account_id: str, window: int) -> RateCount: ...


class Ledger(Protocol):
    """Balance moves, each one idempotent atomic update of the account (hold: HoldRefused; release), and their
    entries, each written with the job's pending flag cleared (`confirm_*`: False when done already); credits."""

    def get_account(self, account_id: str) -> AccountRecord | None: ...
    def hold(self, account_id: str, job_id: str, micros: int) -> Movement: ...
    def release(self, account_id: str, job_id: str, micros: int) -> Movement: ...
    def is_held(self, account_id: str, job_id: str) -> bool: ...
    def confirm_hold(self, entry: LedgerEntry) -> bool: ...
    def confirm_release(self, entry: LedgerEntry) -> bool: ...
    def release_unmapped(self, entry: LedgerEntry) -> Movement: ...
    def credit(self, entry: LedgerEntry) -> None: ...


class LedgerReader(Protocol):
    """Reading the ledger back (reconciliation, usage)."""

    def account_with_ledger(self, account_id: str) -> tuple[AccountRecord | None, list[LedgerEntry]]: ...
    def account_ids(self) -> Iterable[str]: ...
    def ledger_page(self, account_id: str, *, limit: int, cursor: str | None = None,
                    newest_first: bool = True) -> tuple[list[LedgerEntry], str | None]: ...


# The latest time (epoch seconds) a job history holds: the bounds of a listing and of created_between stop here.
MAX_EPOCH = 10**12 - 1


@dataclass(frozen=True)
class JobFilter:
    """Which of the account's jobs a listing shows; the time bounds are exclusive, in epoch seconds. Jobs their owner
    deleted (kept for billing) never show."""

    status: str | None = None
    kind: str | None = None
    created_after: int | None = None
    created_before: int | None = None
    end_user: str | None = None  # only this end user's jobs (their own index partition: data/usage.py)


class JobHistory(Protocol):
    """An account's jobs in creation order (usage, reconciliation)."""

    def created_between(self, account_id: str, start: int = ..., end: int = ...) -> Iterable[JobRecord]: ...


class AccountJobs(JobHistory, Protocol):
    """An account's jobs, also a page at a time, filtered (GET /v1/jobs)."""

    def page(self, account_id: str, *, limit: int, cursor: str | None = None, where: JobFilter | None = None,
             ) -> tuple[list[JobRecord], str | None]: ...


class SettingsConflict(Exception):
    """Someone else changed the account's webhook settings since they were read; read again."""


class WebhookSettingsRepository(Protocol):
    """An account's webhook settings, versioned: `put` is SettingsConflict unless the stored version is
    `expected_version` (None: no settings stored yet)."""

    def get(self, account_id: str) -> AccountWebhookSettings | None: ...
    def put(self, settings: AccountWebhookSettings, *, expected_version: int | None) -> None: ...


class JobWebhookLog(Protocol):
    """A job's webhook state (on its job item): which events were emitted and delivered, the attempt log."""

    def get(self, job_id: str) -> JobWebhook | None: ...
    def mark_emitted(self, job_id: str, event_type: str) -> bool: ...
    def mark_delivered(self, job_id: str, event_id: str) -> bool: ...
    def record_delivery(self, job_id: str, delivery: DeliveryRecord, *, keep: int) -> None: ...


class WebhookQueue(Protocol):
    def send(self, message: WebhookMessage) -> None: ...
    def delay_redelivery(self, receipt_handle: str, seconds: int) -> None: ...
    def dead_letter(self, message: WebhookMessage, reason: str) -> None: ...


# ---- end users (issue 18): quotas per end user, device tokens, erasure -------------------------------------------

__all__ += ["ClientTokenStore", "EndUserStore", "QuotaCharge", "QuotaRefused", "SpendCapRefused"]


@dataclass(frozen=True)
class QuotaCharge:
    """One submit's hold on its end user: the request, the job's images and price, in the windows it is counted in
    (`minute` YYYYMMDDHHMM, `day` YYYYMMDD, `month` YYYYMM, UTC), within `limits`."""

    job_id: str
    images: int
    micros: int
    minute: str
    day: str
    month: str
    limits: EndUserLimits
    now: int


class QuotaRefused(Exception):
    """An end user's limit would be exceeded; `current` is the end user's item as the refused update saw it (None
    when it has none yet). Nothing was written."""

    def __init__(self, current: EndUserRecord | None) -> None:
        super().__init__("end user quota refused")
        self.current = current


class EndUserStore(Protocol):
    """End users' quota items and the account's default limits (data/end_users.py)."""

    def get(self, account_id: str, end_user: str) -> EndUserRecord | None: ...
    def defaults(self, account_id: str) -> EndUserLimits | None: ...
    def page(self, account_id: str, *, limit: int, cursor: str | None) -> tuple[list[EndUserRecord], str | None]: ...
    def set_limits(self, account_id: str, end_user: str, limits: EndUserLimits, now: int) -> EndUserRecord: ...
    def set_defaults(self, account_id: str, limits: EndUserLimits) -> None: ...
    def hold(self, account_id: str, end_user: str, charge: QuotaCharge) -> bool: ...
    def count_request(self, account_id: str, end_user: str, *, minute: str, limit: int, now: int) -> None: ...
    def release(self, account_id: str, end_user: str, job_id: str, *, images: int, micros: int) -> bool: ...


class SpendCapRefused(Exception):
    """A device token would go over its spend cap, or is revoked or expired (`reason`). Nothing was written."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ClientTokenStore(Protocol):
    """Device tokens (data/client_tokens.py)."""

    def create(self, record: ClientTokenRecord) -> None: ...
    def get(self, token_id: str) -> ClientTokenRecord | None: ...
    def revoke(self, account_id: str, token_id: str, now: int) -> bool: ...
    def hold(self, token_id: str, job_id: str, micros: int, now: int) -> bool: ...
    def release(self, token_id: str, job_id: str, micros_used: int) -> bool: ...


class ErasureStore(Protocol):
    def create(self, record: ErasureRecord) -> None: ...
    def get(self, erasure_id: str) -> ErasureRecord | None: ...
    def record_batch(self, erasure_id: str, *, jobs: int, files: int, objects: int, waiting: int,
                     completed_at: int | None) -> None: ...


class EndUserItems(Protocol):
    """An end user's jobs and files in creation order (their own partition of gsi2)."""

    def first(self, account_id: str, end_user: str, limit: int) -> list[JobRecord | FileRecord]: ...
    def erase_job(self, job_id: str, now: int) -> bool: ...


class ErasureQueue(Protocol):
    def send(self, erasure_id: str, delay_seconds: int = 0) -> None: ...


__all__ += ["EndUserItems", "ErasureQueue", "ErasureStore"]


# -- A job's partial images (streaming: jobs/partial_frames.py, jobs/event_stream.py) ---------------------------------


@dataclass(frozen=True)
class PartialFrame:
    """One partial image a worker stored: its `index` in the job (0, 1, ...), where it is, and when it came."""

    index: int
    key: str
    output_format: str
    at: int


class JobPartials(Protocol):
    """The job's partial images, kept beside the job item (data/job_partials.py)."""

    def add(self, job_id: str, frame: PartialFrame, *, expires_at: int) -> bool:
        """Record a frame once: False when one with its index is already recorded (an earlier claim's)."""
        ...

    def frames(self, job_id: str) -> list[PartialFrame]:
        """Every recorded frame, in index order (a strongly consistent read)."""
        ...


# -- The console's operator views (issue #21): every account, and one ledger entry read back ---------------------------


class AccountDirectory(Protocol):
    """Every account of the deployment (data/account_directory.py: an index, never a scan of the table)."""

    def account_page(self, *, limit: int, cursor: str | None = None) -> tuple[list[AccountRecord], str | None]:
        """Up to `limit` accounts, newest first, and the cursor of the next page (None: no more); ValueError for a
        cursor that is not one this listing gave."""
        ...

    def account_ids(self) -> Iterable[str]:
        """Every account's id."""
        ...


class CreditLedger(Protocol):
    """An operator's credit adjustments: the move (with its entry, CreditRefused / CreditWritten), and the entry and
    the account read back."""

    def get_account(self, account_id: str) -> AccountRecord | None: ...
    def credit(self, entry: LedgerEntry) -> None: ...
    def entry(self, account_id: str, entry_id: str) -> LedgerEntry | None: ...


__all__ += ["AccountDirectory", "CreditLedger"]
