"""The ports other than the job repository (test_fake_contract.py): the same scenarios on tests/fakes and on moto.

Each fixture answers the port twice, typed as its Protocol: a fake, and the retouch/data/ class on moto. If one
of these fails only for the fake, the unit tier is testing against a fiction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import pytest

from retouch import ports
from retouch.billing.charges import JobBilling, add_credit
from retouch.billing.prices import price_table
from retouch.data.accounts import AccountRepository
from retouch.data.job_partials import JobPartialsRepository
from retouch.data.jobs import JobRepository
from retouch.data.ledger import LedgerRepository
from retouch.data.objects import ObjectStore
from retouch.data.read_counts import ReadCountRepository
from retouch.data.webhooks import JobWebhookLog, WebhookSettingsRepository
from retouch.models.account_records import AccountRecord, ApiKeyRecord, LedgerEntry
from retouch.models.outcome import JobOutcome
from retouch.models.records import JobError, JobRecord
from retouch.models.transitions import Cancel, FailUnfinished
from retouch.models.webhooks import DeliveryRecord, JobWebhook
from retouch.ports import CreditRefused, CreditWritten, HoldRefused, ObjectMissing, SettingsConflict
from tests.builders import admission_for, new_account_id, new_job_id
from tests.fakes import (
    FakeAccountRepository,
    FakeJobPartials,
    FakeJobRepository,
    FakeLedger,
    FakeObjectStore,
    FakeReadCounter,
    FakeSettings,
    FakeWebhookLog,
)
from tests.integration.core.aws_stack import Stack, client

NOW = 1_800_000_000


@pytest.fixture(params=["fake", "s3"])
def store(request: pytest.FixtureRequest) -> ports.ObjectStore:
    if request.param == "fake":
        return FakeObjectStore()
    stack: Stack = request.getfixturevalue("stack")
    return ObjectStore(stack.bucket, client("s3"))


def test_objects_are_read_whole_or_by_prefix_listed_and_deleted(store: ports.ObjectStore) -> None:
    # Given two objects under one prefix and one elsewhere
    prefix = f"contract/{new_job_id()}/"
    store.put(prefix + "a.png", b"0123456789", "image/png")
    store.put(prefix + "b.png", b"xyz", "image/png")
    store.put(prefix.rstrip("/") + "-other", b"o", "application/octet-stream")

    # Then reads, heads and listings agree, and a deleted prefix is gone
    head = store.head(prefix + "a.png")
    assert store.get(prefix + "a.png") == b"0123456789" and store.get_prefix(prefix + "a.png", 4) == b"0123"
    assert head is not None and head.size == 10 and head.etag.startswith('"')
    assert store.head(prefix + "missing") is None
    assert store.keys_under(prefix) == [prefix + "a.png", prefix + "b.png"]
    assert store.delete_prefix(prefix) == 2 and store.keys_under(prefix) == []
    assert store.get(prefix.rstrip("/") + "-other") == b"o"
    with pytest.raises(ObjectMissing):
        store.get(prefix + "a.png")


@dataclass
class Billing:
    ledger: ports.Ledger
    jobs: ports.JobRepository
    accounts: ports.AccountRepository


@pytest.fixture(params=["fake", "dynamodb"])
def billing_ports(request: pytest.FixtureRequest) -> Billing:
    if request.param == "fake":
        jobs = FakeJobRepository()
        return Billing(FakeLedger(None, jobs=jobs), jobs, FakeAccountRepository())
    stack: Stack = request.getfixturevalue("stack")
    dynamodb = client("dynamodb")
    return Billing(LedgerRepository(stack.table, dynamodb), JobRepository(stack.table, dynamodb),
                   AccountRepository(stack.table, dynamodb))


def _open_account(ports_: Billing, credit: int) -> str:
    account_id = new_account_id()
    record = AccountRecord(account_id=account_id, name="contract", created_at=NOW, max_in_flight=5)
    ports_.accounts.put_account(record)
    if isinstance(ports_.ledger, FakeLedger):  # the fake ledger holds its own account item
        ports_.ledger.state = record.model_copy(deep=True)
    add_credit(ports_.ledger, account_id, credit, "contract")
    return account_id


def _job(account_id: str) -> JobRecord:
    return JobRecord(job_id=new_job_id(), account_id=account_id, kind="generation", status="queued",
                     model="gpt-image-2", request={"prompt": "p", "n": 1, "quality": "low", "size": "1024x1024"},
                     created_at=NOW, expires_at=NOW + 60)


def test_a_reserve_creates_the_job_with_its_hold_and_a_settlement_ends_it_once(billing_ports: Billing) -> None:
    # Given an account with credit, billed over the port pair
    account_id = _open_account(billing_ports, 1_000_000)
    billing = JobBilling(ledger=billing_ports.ledger, jobs=billing_ports.jobs, prices=price_table())

    # When a job is reserved, claimed, failed (everything released), then failed again
    record = billing.reserve(_job(account_id), admission_for(billing_ports.ledger, account_id).account)
    held = billing_ports.ledger.get_account(account_id)
    claimed = billing_ports.jobs.claim(record.job_id, token="t", now=NOW, lease_until=NOW + 10)
    assert claimed is not None
    first = billing.finish(claimed, token="t", outcome=JobOutcome(status="failed", completed_at=NOW))
    second = billing.finish(claimed, token="t", outcome=JobOutcome(status="failed", completed_at=NOW))

    # Then the job existed with its hold, ended once, and the balance is whole again
    price = record.reserved_micros or 0
    assert price > 0 and held is not None and (held.balance_micros, held.in_flight) == (1_000_000 - price, 1)
    assert (first, second) == (True, False)
    ended, after = billing_ports.jobs.get(record.job_id), billing_ports.ledger.get_account(account_id)
    assert ended is not None and ended.status == "failed" and ended.release_pending is None
    assert after is not None and (after.balance_micros, after.in_flight, after.holds) == (1_000_000, 0, {})
    assert held.holds == {record.job_id: price}


def test_holds_and_releases_are_idempotent_and_refusals_say_why(billing_ports: Billing) -> None:
    # Given an account with $0.01
    account_id = _open_account(billing_ports, 10_000)
    ledger, job_id = billing_ports.ledger, new_job_id()

    # When a job's hold is taken twice, another is refused for credit, and the release is made twice
    first, again = ledger.hold(account_id, job_id, 6_000), ledger.hold(account_id, job_id, 6_000)
    with pytest.raises(HoldRefused) as refused:
        ledger.hold(account_id, new_job_id(), 6_000)
    held = ledger.is_held(account_id, job_id)
    released, released_again = ledger.release(account_id, job_id, 6_000), ledger.release(account_id, job_id, 6_000)

    # Then each move applied once, with the balance it left, and the refusal carries the account as it was
    assert (first.applied, first.balance_after_micros, again.applied) == (True, 4_000, False)
    assert refused.value.current is not None and refused.value.current.balance_micros == 4_000
    assert held and not ledger.is_held(account_id, job_id)
    assert (released.applied, released.balance_after_micros, released_again.applied) == (True, 10_000, False)
    account = ledger.get_account(account_id)
    assert account is not None and (account.balance_micros, account.in_flight, account.holds) == (10_000, 0, {})


def test_a_hold_is_confirmed_once_with_its_entry_and_a_pending_job_is_not_claimable(billing_ports: Billing) -> None:
    # Given a job written pending its hold, and the hold taken
    account_id = _open_account(billing_ports, 10_000)
    record = _job(account_id).model_copy(update={"hold_pending": 6_000, "reserved_micros": 6_000})
    billing_ports.jobs.create(record)
    billing_ports.ledger.hold(account_id, record.job_id, 6_000)
    unconfirmed_claim = billing_ports.jobs.claim(record.job_id, token="t", now=NOW, lease_until=NOW + 10)

    # When its reserve entry is confirmed twice
    entry = LedgerEntry(entry_id=f"{record.job_id}.reserve", account_id=account_id, job_id=record.job_id,
                        kind="reserve", amount_micros=-6_000, balance_after_micros=4_000, at_ms=1)
    confirmed = [billing_ports.ledger.confirm_hold(entry), billing_ports.ledger.confirm_hold(entry)]

    # Then the first wrote it and made the job claimable; the second wrote nothing
    assert unconfirmed_claim is None and confirmed == [True, False]
    job = billing_ports.jobs.get(record.job_id)
    assert job is not None and job.hold_pending is None
    assert billing_ports.jobs.claim(record.job_id, token="t", now=NOW, lease_until=NOW + 10) is not None


def test_an_unheld_job_is_discarded_and_a_held_one_is_not(billing_ports: Billing) -> None:
    account_id = _open_account(billing_ports, 10_000)
    pending = _job(account_id).model_copy(update={"hold_pending": 6_000, "reserved_micros": 6_000})
    billing_ports.jobs.create(pending)
    assert billing_ports.jobs.discard_unheld(pending) is True
    assert billing_ports.jobs.get(pending.job_id) is None
    held = _job(account_id).model_copy(update={"reserved_micros": 6_000})
    billing_ports.jobs.create(held)
    assert billing_ports.jobs.discard_unheld(held) is False and billing_ports.jobs.get(held.job_id)


def test_a_correction_below_zero_is_refused_and_writes_nothing(billing_ports: Billing) -> None:
    # Given an account with credit
    account_id = _open_account(billing_ports, 500)

    # When a correction would take more than the balance
    entry = LedgerEntry(entry_id=f"credit_{new_job_id()}", account_id=account_id, kind="credit", amount_micros=-501,
                        at_ms=1)
    with pytest.raises(CreditRefused) as refused:
        billing_ports.ledger.credit(entry)

    # Then the current account comes with the refusal, and the balance did not move
    assert refused.value.current is not None and refused.value.current.balance_micros == 500
    account = billing_ports.ledger.get_account(account_id)
    assert account is not None and account.balance_micros == 500


def test_a_credit_is_written_once_under_its_entry_id_and_read_back(billing_ports: Billing) -> None:
    # Given an account with credit and an operator's credit written once
    account_id = _open_account(billing_ports, 500)
    entry = LedgerEntry(entry_id=f"credit_{new_job_id()}", account_id=account_id, kind="credit", amount_micros=250,
                        at_ms=1, note="goodwill", adjusted_by="user-1")
    billing_ports.ledger.credit(entry)
    credits = cast(ports.CreditLedger, billing_ports.ledger)  # both ledgers are also the credits' port

    # When the same entry is credited again
    with pytest.raises(CreditWritten):
        billing_ports.ledger.credit(entry)

    # Then the balance moved once, and the entry reads back as written (another id reads as none)
    account = billing_ports.ledger.get_account(account_id)
    assert account is not None and account.balance_micros == 750
    assert credits.entry(account_id, entry.entry_id) == entry
    assert credits.entry(account_id, "credit_none") is None


@pytest.fixture(params=["fake", "dynamodb"])
def accounts(request: pytest.FixtureRequest) -> ports.AccountRepository:
    if request.param == "fake":
        return FakeAccountRepository()
    stack: Stack = request.getfixturevalue("stack")
    return AccountRepository(stack.table, client("dynamodb"))


def test_a_revoked_key_is_marked_and_listed_on_its_account(accounts: ports.AccountRepository) -> None:
    # Given an account with a key
    account_id = new_account_id()
    accounts.put_account(AccountRecord(account_id=account_id, name="keys", created_at=NOW))
    key = ApiKeyRecord(key_hash="h" + new_job_id(), key_id="key_" + new_job_id()[4:], account_id=account_id,
                       prefix="sk-test", created_at=NOW)
    accounts.put_key(key)

    # When it is revoked
    accounts.revoke_key(key, NOW + 1)

    # Then the key reads revoked and its account lists it
    found, account = accounts.find_key(key.key_hash), accounts.get_account(account_id)
    assert found is not None and found.revoked_at == NOW + 1
    assert account is not None and account.revoked_key_ids == [key.key_id]
    assert [k.key_id for k in accounts.list_keys(account_id)] == [key.key_id]


@pytest.fixture(params=["fake", "dynamodb"])
def webhook_ports(request: pytest.FixtureRequest) -> tuple[ports.WebhookSettingsRepository, ports.JobWebhookLog,
                                                           ports.JobRepository]:
    if request.param == "fake":
        log = FakeWebhookLog()
        return FakeSettings(), log, FakeJobRepository(webhooks=log)
    stack: Stack = request.getfixturevalue("stack")
    dynamodb = client("dynamodb")
    return (WebhookSettingsRepository(stack.table, dynamodb), JobWebhookLog(stack.table, dynamodb),
            JobRepository(stack.table, dynamodb))


def test_webhook_settings_are_versioned_and_a_job_logs_each_event_once(webhook_ports: tuple) -> None:
    from retouch.models.webhooks import AccountWebhookSettings

    settings, log, jobs = webhook_ports
    # Given an account's settings and a job subscribed to its webhook
    account_id = new_account_id()
    first = AccountWebhookSettings(account_id=account_id, default_url="https://hooks.example/a", version=1)
    settings.put(first, expected_version=None)
    record = _job(account_id).model_copy(update={"webhook": JobWebhook(url="https://hooks.example/a",
                                                                       events=["job.succeeded"])})
    if isinstance(jobs, FakeJobRepository):
        jobs.add(record)
    else:
        jobs.create(record)

    # When settings are written against a stale version, and events are marked twice
    with pytest.raises(SettingsConflict):
        settings.put(first.model_copy(update={"version": 2}), expected_version=0)
    marks = [log.mark_emitted(record.job_id, "job.succeeded"), log.mark_emitted(record.job_id, "job.succeeded")]
    log.record_delivery(record.job_id, DeliveryRecord(event_id="evt_1", type="job.succeeded", attempt=1,
                                                      at=NOW, outcome="delivered"), keep=5)

    # Then the first write stands, each event is marked once, and the job reads its webhook back
    stored = settings.get(account_id)
    assert stored is not None and stored.version == 1 and marks == [True, False]
    webhook = log.get(record.job_id)
    assert webhook is not None and webhook.emitted == ["job.succeeded"] and len(webhook.deliveries) == 1
    read = jobs.get(record.job_id)
    assert read is not None and read.webhook is not None and read.webhook.emitted == ["job.succeeded"]


def test_a_job_not_yet_held_cannot_be_canceled_or_failed(billing_ports: Billing) -> None:
    # Given a job written pending its hold
    account_id = _open_account(billing_ports, 10_000)
    pending = _job(account_id).model_copy(update={"hold_pending": 6_000, "reserved_micros": 6_000})
    billing_ports.jobs.create(pending)

    # When it is canceled or failed as abandoned, then neither applies (there is nothing to give back yet)
    assert billing_ports.jobs.end(Cancel(pending.job_id, NOW), release_micros=6_000) is False
    assert billing_ports.jobs.end(FailUnfinished(pending.job_id, JobError(code="x", message="y"), NOW),
                                  release_micros=6_000) is False
    stored = billing_ports.jobs.get(pending.job_id)
    assert stored is not None and stored.status == "queued" and stored.release_pending is None


def test_a_job_from_before_holds_is_released_once_with_its_entry(billing_ports: Billing) -> None:
    # Given an ended job reserved before holds existed (in flight counted, no hold on the account)
    account_id = _open_account(billing_ports, 10_000)
    legacy = _job(account_id).model_copy(update={"reserved_micros": 6_000})
    billing_ports.jobs.create(legacy)
    assert billing_ports.jobs.end(Cancel(legacy.job_id, NOW), release_micros=6_000)
    entry = LedgerEntry(entry_id=f"{legacy.job_id}.settle", account_id=account_id, job_id=legacy.job_id,
                        kind="settle", amount_micros=6_000, at_ms=1, charged_micros=0, released_micros=6_000)

    # When its release is made twice
    first, second = billing_ports.ledger.release_unmapped(entry), billing_ports.ledger.release_unmapped(entry)

    # Then it applied once and cleared the job's flag
    assert (first.applied, second.applied) == (True, False)
    account, job = billing_ports.ledger.get_account(account_id), billing_ports.jobs.get(legacy.job_id)
    assert account is not None and account.balance_micros == 16_000 and account.in_flight == -1
    assert job is not None and job.release_pending is None


def test_a_hold_on_an_account_from_before_holds_makes_its_map(stack: Stack) -> None:
    # Given an account item written before the holds map existed
    dynamodb = client("dynamodb")
    ledger = LedgerRepository(stack.table, dynamodb)
    account_id = new_account_id()
    AccountRepository(stack.table, dynamodb).put_account(AccountRecord(account_id=account_id, name="old",
                                                                       created_at=NOW))
    dynamodb.update_item(TableName=stack.table, Key={"pk": {"S": f"ACCOUNT#{account_id}"}, "sk": {"S": "ACCOUNT"}},
                         UpdateExpression="SET balance_micros = :b REMOVE holds",
                         ExpressionAttributeValues={":b": {"N": "10000"}})

    # When a job's price is held, then it is, and the map now names it
    moved = ledger.hold(account_id, "job_old", 6_000)
    account = ledger.get_account(account_id)
    assert moved.applied and account is not None and account.holds == {"job_old": 6_000}


class CommitsTwice:
    """A DynamoDB client whose UpdateItem is sent twice, as an SDK retry of a write whose answer was lost does."""

    def __init__(self, real: object) -> None:
        self._real = real

    def __getattr__(self, name: str) -> object:
        return getattr(self._real, name)

    def update_item(self, **params: object) -> object:
        self._real.update_item(**params)  # type: ignore[attr-defined]
        return self._real.update_item(**params)  # type: ignore[attr-defined]


def test_an_end_sent_again_after_it_committed_is_still_its_success(stack: Stack) -> None:
    # Given a job repository whose end is retried by the SDK after it committed
    jobs = JobRepository(stack.table, CommitsTwice(client("dynamodb")))
    record = _job(new_account_id())
    jobs.create(record)

    # When the queued job is canceled, then that is a success (its own write), not "ended elsewhere"
    assert jobs.end(Cancel(record.job_id, NOW), release_micros=0) is True
    # while another call's end of the now-canceled job is still refused
    assert jobs.end(Cancel(record.job_id, NOW + 1), release_micros=0) is False


@pytest.fixture(params=["fake", "dynamodb"])
def read_counter(request: pytest.FixtureRequest) -> ports.ReadCounter:
    if request.param == "fake":
        return FakeReadCounter()
    stack: Stack = request.getfixturevalue("stack")
    return ReadCountRepository(stack.table, client("dynamodb"))


def test_reads_are_counted_per_account_and_window_up_to_the_limit(read_counter: ports.ReadCounter) -> None:
    # Given two accounts and a limit of two reads per window
    account, other = new_account_id(), new_account_id()
    window = NOW // 60

    # When the first reads three times in one window, once in the next, and the other once
    counts = [read_counter.count_read(account, window, 2) for _ in range(3)]
    later = read_counter.count_read(account, window + 1, 2)
    others = read_counter.count_read(other, window, 2)

    # Then two are admitted and the third refused; each window and each account counts apart
    assert [(c.count, c.admitted) for c in counts] == [(1, True), (2, True), (2, False)]
    assert (later.count, later.admitted, others.count, others.admitted) == (1, True, 1, True)


@pytest.fixture(params=["fake", "dynamodb"])
def job_partials(request: pytest.FixtureRequest) -> ports.JobPartials:
    if request.param == "fake":
        return FakeJobPartials()
    stack: Stack = request.getfixturevalue("stack")
    return JobPartialsRepository(stack.table, client("dynamodb"))


def test_a_jobs_partial_frames_are_kept_once_per_index_in_index_order(job_partials: ports.JobPartials) -> None:
    # Given a job and another
    job_id, other = new_job_id(), new_job_id()
    second = ports.PartialFrame(index=1, key=f"outputs/{job_id}/partials/1-b.png", output_format="png", at=NOW + 2)
    first = ports.PartialFrame(index=0, key=f"outputs/{job_id}/partials/0-a.png", output_format="png", at=NOW + 1)

    # When frames arrive out of order, and a later run offers index 0 again
    added = [job_partials.add(job_id, frame, expires_at=NOW + 86400) for frame in (second, first)]
    again = job_partials.add(job_id, ports.PartialFrame(index=0, key="outputs/x/partials/0-c.png",
                                                        output_format="png", at=NOW + 3), expires_at=NOW + 86400)

    # Then both are kept, read in index order, the second offer of index 0 refused; the other job has none
    assert added == [True, True] and again is False
    assert job_partials.frames(job_id) == [first, second]
    assert job_partials.frames(other) == []
