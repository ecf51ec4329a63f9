"""The job, idempotency and file ports (test_port_contracts.py has the others): tests/fakes' FakeJobRepository,
FakeIdempotencyStore and FakeFileRepository and the real classes (on moto) obey the same conditional rules.

If this fails, the unit tests of the worker and submit logic are testing against a fiction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from retouch.data.files import FileRepository
from retouch.data.idempotency import IdempotencyRepository
from retouch.data.jobs import JobRepository
from retouch.jobs.idempotency import KeyedRequest
from retouch.models.idempotency import IdempotencyRecord
from retouch.models.outcome import JobOutcome
from retouch.models.records import (
    FileRecord,
    JobError,
    JobRecord,
    ProducedOutputs,
    StoredInput,
    StoredOutput,
    UpstreamAttempt,
)
from retouch.ports import KeyTaken
from tests.builders import new_account_id, new_job_id
from tests.fakes import FakeFileRepository, FakeJobRepository
from tests.integration.core.aws_stack import Stack, client
from tests.integration.core.job_ends import cancel, fail_unfinished, finish

NOW = 1_800_000_000


@pytest.fixture(params=["fake", "dynamodb"])
def repository(request: pytest.FixtureRequest) -> Any:
    if request.param == "fake":
        return FakeJobRepository()
    stack: Stack = request.getfixturevalue("stack")
    return JobRepository(stack.table, client("dynamodb"))


@pytest.fixture
def new_job(repository: Any) -> Callable[[], JobRecord]:
    def create() -> JobRecord:
        record = JobRecord(job_id=new_job_id(), account_id=new_account_id(), kind="generation", status="queued",
                           model="gpt-image-2", request={"prompt": "p", "n": 1}, metadata={"k": "v"},
                           created_at=NOW, expires_at=NOW + 60)
        repository.create(record)
        return record

    return create


def test_claim_is_exclusive_until_the_lease_expires(repository: Any, new_job: Callable[[], JobRecord]) -> None:
    # Given a queued job
    job = new_job()

    # When two workers claim it, then a third after the first's lease expired
    first = repository.claim(job.job_id, token="a", now=NOW, lease_until=NOW + 10)
    second = repository.claim(job.job_id, token="b", now=NOW + 5, lease_until=NOW + 15)
    third = repository.claim(job.job_id, token="c", now=NOW + 11, lease_until=NOW + 20)

    # Then the first and third win; attempts count claims; started_at is the first claim's
    assert first is not None and (first.status, first.claim_token, first.attempts, first.started_at) == (
        "running", "a", 1, NOW)
    assert second is None
    assert third is not None and (third.claim_token, third.attempts, third.started_at) == ("c", 2, NOW)
    assert third.metadata == {"k": "v"} and third.request == {"prompt": "p", "n": 1}


def test_finish_needs_the_current_claim(repository: Any, new_job: Callable[[], JobRecord]) -> None:
    # Given a job claimed by "a"
    job = new_job()
    repository.claim(job.job_id, token="a", now=NOW, lease_until=NOW + 10)

    # When "b" and then "a" finish it, then "a" finishes it again
    by_other = finish(repository, job.job_id, token="b", outcome=JobOutcome.failed("c", "m", at=NOW))
    by_owner = finish(repository, job.job_id, token="a", outcome=JobOutcome(
        status="succeeded", completed_at=NOW + 1, usage={"total_tokens": 3},
        outputs=(StoredOutput(key="k", content_type="image/png", bytes=1, width=2, height=3),)))
    twice = finish(repository, job.job_id, token="a", outcome=JobOutcome.failed("c", "m", at=NOW + 2))

    # Then only the owner's first finish counts, and the claim is gone
    done = repository.get(job.job_id)
    assert (by_other, by_owner, twice) == (False, True, False)
    assert done.status == "succeeded" and done.claim_token is None and done.lease_until is None
    assert done.usage == {"total_tokens": 3} and done.error is None and done.outputs[0].height == 3


def test_release_for_retry_and_fail_unfinished(repository: Any, new_job: Callable[[], JobRecord]) -> None:
    # Given a claimed job
    job = new_job()
    repository.claim(job.job_id, token="a", now=NOW, lease_until=NOW + 10)

    # When it is released for retry, claimed again, then failed as abandoned (its lease ran out), then again
    released = repository.release_for_retry(job.job_id, token="a", error=JobError(code="x", message="y"),
                                            retry_at=NOW + 30)
    queued = repository.get(job.job_id)
    reclaimed = repository.claim(job.job_id, token="b", now=NOW + 1, lease_until=NOW + 10)
    failed = fail_unfinished(repository, job.job_id, error=JobError(code="processing_failed", message="m"),
                             now=NOW + 12)
    again = fail_unfinished(repository, job.job_id, error=JobError(code="other", message="m"), now=NOW + 13)

    # Then each step behaves alike in both
    assert released and queued.status == "queued" and queued.error.code == "x" and queued.claim_token is None
    assert queued.watch_at == NOW + 30
    assert reclaimed is not None and reclaimed.attempts == 2
    assert failed and not again
    ended = repository.get(job.job_id)
    assert (ended.status, ended.error.code, ended.completed_at, ended.claim_token) == (
        "failed", "processing_failed", NOW + 12, None)


def test_missing_jobs(repository: Any) -> None:
    # Given no such job
    job_id = new_job_id()

    # Then it cannot be read, claimed, finished or failed
    assert repository.get(job_id) is None
    assert repository.claim(job_id, token="a", now=NOW, lease_until=NOW + 1) is None
    assert finish(repository, job_id, token="a", outcome=JobOutcome.failed("c", "m", at=NOW)) is False
    assert fail_unfinished(repository, job_id, error=JobError(code="c", message="m"), now=NOW) is False


def test_the_heartbeat_renews_only_the_claim_it_holds(repository: Any, new_job: Callable[[], JobRecord]) -> None:
    # Given a job claimed by "a"
    job = new_job()
    repository.claim(job.job_id, token="a", now=NOW, lease_until=NOW + 10)

    # When "a" and then "b" renew the lease
    by_owner = repository.renew_lease(job.job_id, token="a", lease_until=NOW + 40)
    by_other = repository.renew_lease(job.job_id, token="b", lease_until=NOW + 99)

    # Then only the owner's renewal counts, and the job is watched until its new lease
    renewed = repository.get(job.job_id)
    assert (by_owner, by_other) == (True, False)
    assert (renewed.lease_until, renewed.watch_at) == (NOW + 40, NOW + 40)


def test_produced_outputs_are_checkpointed_under_the_claim_and_dropped_when_the_job_ends(
        repository: Any, new_job: Callable[[], JobRecord]) -> None:
    # Given a claimed job
    job = new_job()
    repository.claim(job.job_id, token="a", now=NOW, lease_until=NOW + 10)
    produced = ProducedOutputs(outputs=[StoredOutput(key="k", content_type="image/png", bytes=1, width=2, height=3)],
                               result={"size": "2x3"}, usage={"total_tokens": 5})

    # When "b" and "a" checkpoint outputs, and "a" then finishes the job
    by_other = repository.record_produced(job.job_id, token="b", produced=produced)
    by_owner = repository.record_produced(job.job_id, token="a", produced=produced)
    checkpointed = repository.get(job.job_id)
    finish(repository, job.job_id, token="a", outcome=JobOutcome(status="succeeded", completed_at=NOW + 1))

    # Then only the owner's checkpoint is kept, and an ended job carries none (nor a watch time)
    assert (by_other, by_owner) == (False, True)
    assert checkpointed.produced == produced
    ended = repository.get(job.job_id)
    # (on the sweep index, watched from its end, until billing confirms its release)
    assert ended.produced is None and ended.watch_at == NOW + 1 and ended.release_pending == 0


def test_measured_input_sizes_are_kept_under_the_claim(repository: Any, new_job: Callable[[], JobRecord]) -> None:
    # Given a claimed job
    job = new_job()
    repository.claim(job.job_id, token="a", now=NOW, lease_until=NOW + 10)
    measured = [StoredInput(url="https://photos.example/p.png", width=64, height=48)]
    mask = StoredInput(url="https://photos.example/m.png", width=64, height=48)

    # When "b" and then "a" record the inputs as measured
    by_other = repository.record_input_sizes(job.job_id, token="b", inputs=measured, mask=mask)
    by_owner = repository.record_input_sizes(job.job_id, token="a", inputs=measured, mask=mask)

    # Then only the owner's write counts, and the job reads back with the sizes
    kept = repository.get(job.job_id)
    assert (by_other, by_owner) == (False, True)
    assert (kept.inputs, kept.mask) == (measured, mask)


def test_the_attempts_that_served_a_job_ride_on_its_checkpoint(repository: Any,
                                                                 new_job: Callable[[], JobRecord]) -> None:
    # Given a claimed job whose walk already wrote one failed call
    job = new_job()
    repository.claim(job.job_id, token="a", now=NOW, lease_until=NOW + 10)
    failed = UpstreamAttempt(upstream="first", outcome="unavailable", code="provider_error", at=NOW)
    assert repository.record_attempts(job.job_id, token="a", attempts=[failed])
    produced = ProducedOutputs(outputs=[StoredOutput(key="k", content_type="image/png", bytes=1, width=2, height=3)])
    skipped = UpstreamAttempt(upstream="second", outcome="skipped", code="circuit_open", at=NOW)
    served = UpstreamAttempt(upstream="third", outcome="succeeded", latency_ms=900, at=NOW + 1)

    # When a stranger and then the owner checkpoint the outputs with the attempts not yet written
    by_other = repository.record_produced(job.job_id, token="b", produced=produced, attempts=[skipped, served])
    by_owner = repository.record_produced(job.job_id, token="a", produced=produced, attempts=[skipped, served])

    # Then one write kept the outputs and appended the attempts in order, after the earlier one
    assert (by_other, by_owner) == (False, True)
    checkpointed = repository.get(job.job_id)
    assert checkpointed.produced == produced
    assert [(a.upstream, a.outcome) for a in checkpointed.upstream_attempts] == [
        ("first", "unavailable"), ("second", "skipped"), ("third", "succeeded")]


def test_a_job_with_a_live_lease_cannot_be_failed_as_abandoned(repository: Any,
                                                                new_job: Callable[[], JobRecord]) -> None:
    # Given a job leased until NOW + 10
    job = new_job()
    repository.claim(job.job_id, token="a", now=NOW, lease_until=NOW + 10)

    # When a dead-lettered copy tries to fail it during the lease, and then after it
    during = fail_unfinished(repository, job.job_id, error=JobError(code="processing_failed", message="m"), now=NOW + 5)
    after = fail_unfinished(repository, job.job_id, error=JobError(code="processing_failed", message="m"), now=NOW + 11)

    # Then only the second one ends it
    assert (during, after) == (False, True)
    assert repository.get(job.job_id).status == "failed"


def test_the_sweep_index_lists_unfinished_jobs_due_and_rewatch_is_conditional(
        repository: Any, new_job: Callable[[], JobRecord]) -> None:
    # Given a queued job (watched from its creation), a running one leased to NOW + 100 and an ended one
    queued = new_job()
    running = new_job()
    repository.claim(running.job_id, token="a", now=NOW, lease_until=NOW + 100)
    ended = new_job()
    repository.claim(ended.job_id, token="a", now=NOW, lease_until=NOW + 10)
    finish(repository, ended.job_id, token="a", outcome=JobOutcome(status="succeeded", completed_at=NOW))

    # When the jobs due before NOW + 50 are listed
    due = {job.job_id for job in _all_due(repository, before=NOW + 50)}

    # Then the queued job is due, and the ended one (its release is not confirmed yet: billing's, or the sweeper's
    # to finish), but not the one running under its lease
    assert queued.job_id in due and running.job_id not in due and ended.job_id in due
    # And moving its watch time on works once for the value read, not for a stale one
    assert repository.rewatch(queued.job_id, seen_watch_at=NOW, watch_at=NOW + 60) is True
    assert repository.rewatch(queued.job_id, seen_watch_at=NOW, watch_at=NOW + 70) is False
    assert repository.get(queued.job_id).watch_at == NOW + 60


def test_the_sweep_index_pages_on(repository: Any, new_job: Callable[[], JobRecord]) -> None:
    # Given three queued jobs, all due
    created = {new_job().job_id for _ in range(3)}
    # When they are read two at a time
    first, cursor = repository.due_for_sweep(before=NOW + 50, limit=2)
    assert cursor is not None
    rest = _all_due(repository, before=NOW + 50, cursor=cursor)
    # Then every one of them comes back once, with what the sweeper decides on
    seen = [c.job_id for c in first + rest]
    assert created <= set(seen) and len(seen) == len(set(seen))
    assert all(c.created_at == NOW and c.watch_at == NOW for c in first + rest if c.job_id in created)


def _all_due(repository: Any, *, before: int, cursor: Any = None) -> list[Any]:
    found: list[Any] = []
    while True:
        page, cursor = repository.due_for_sweep(before=before, limit=100, cursor=cursor)
        found += page
        if cursor is None:
            return found


# -- Files ------------------------------------------------------------------------------------------------


@pytest.fixture(params=["fake", "dynamodb"])
def file_repository(request: pytest.FixtureRequest) -> Any:
    if request.param == "fake":
        return FakeFileRepository()
    stack: Stack = request.getfixturevalue("stack")
    return FileRepository(stack.table, client("dynamodb"))


def new_file(repository: Any, account_id: str, *, created_at: int = NOW, expires_at: int = NOW + 60) -> FileRecord:
    file_id = "file_" + new_job_id()[4:]
    record = FileRecord(file_id=file_id, account_id=account_id, key=f"uploads/{account_id}/{file_id}",
                        filename="a.png", purpose="vision", mime_type="image/png", declared_bytes=10,
                        status="pending", created_at=created_at, expires_at=expires_at)
    repository.create(record)
    return record


def test_a_file_check_sets_and_removes_fields_but_never_revives_a_deleted_file(file_repository: Any) -> None:
    # Given a pending file
    record = new_file(file_repository, new_account_id())

    # When it is found ready, then rejected, then deleted and checked again
    ready = file_repository.record_check(record.file_id, {"status": "ready", "bytes": 9, "format": "png",
                                                          "width": 3, "height": 2, "has_alpha": True, "etag": "e1"})
    rejected = file_repository.record_check(record.file_id, {"status": "rejected", "format": None, "width": None,
                                                             "error": {"code": "invalid_image", "message": "m"}})
    file_repository.delete(record.file_id)
    revived = file_repository.record_check(record.file_id, {"status": "ready"})

    # Then each check is what a read gives back, and the deleted file stays deleted
    assert (ready.status, ready.bytes, ready.format, ready.width, ready.has_alpha) == ("ready", 9, "png", 3, True)
    assert (rejected.status, rejected.format, rejected.width, rejected.height) == ("rejected", None, None, 2)
    assert rejected.error is not None and rejected.error.code == "invalid_image"
    assert revived is None and file_repository.get(record.file_id) is None


def test_files_page_newest_first_unexpired_with_a_cursor_bound_to_the_account(file_repository: Any) -> None:
    # Given three live files of one account, an expired one, and a file of another account
    account, other = new_account_id(), new_account_id()
    live = [new_file(file_repository, account, created_at=NOW + i) for i in range(3)]
    new_file(file_repository, account, created_at=NOW + 9, expires_at=NOW - 1)
    new_file(file_repository, other)

    # When the account's files are paged two at a time
    cursor, seen = None, []
    while True:
        records, cursor = file_repository.page(account, limit=2, now=NOW, cursor=cursor)
        seen += [r.file_id for r in records]
        if cursor is None:
            break

    # Then they come newest first, the expired one left out, and the cursor is refused for another account
    assert seen == [r.file_id for r in reversed(live)]
    _, first_cursor = file_repository.page(account, limit=1, now=NOW)
    with pytest.raises(ValueError):
        file_repository.page(other, limit=1, now=NOW, cursor=first_cursor)


def test_only_an_ended_job_is_tombstoned_and_only_once(repository: Any, new_job: Callable[[], JobRecord]) -> None:
    # Given a queued job, then claimed, then finished with outputs
    job = new_job()
    while_queued = repository.tombstone(job.job_id, now=NOW)
    repository.claim(job.job_id, token="a", now=NOW, lease_until=NOW + 10)
    while_running = repository.tombstone(job.job_id, now=NOW)
    finish(repository, job.job_id, token="a", outcome=JobOutcome(
        status="succeeded", completed_at=NOW + 1, usage={"images": 1, "cost_micros": 6000},
        outputs=(StoredOutput(key="k", content_type="image/png", bytes=1, width=2, height=3),)))

    # When it is tombstoned, then again, and a missing job too
    ended = repository.tombstone(job.job_id, now=NOW + 5)
    again = repository.tombstone(job.job_id, now=NOW + 6)
    missing = repository.tombstone(new_job_id(), now=NOW)

    # Then only the ended job's first tombstone counts; it keeps the billing fields and loses the rest
    assert (while_queued, while_running, ended, again, missing) == (False, False, True, False, False)
    kept = repository.get(job.job_id)
    assert (kept.deleted_at, kept.request, kept.metadata, kept.outputs) == (NOW + 5, {}, {}, [])
    assert (kept.status, kept.usage, kept.completed_at, kept.account_id) == (
        "succeeded", {"images": 1, "cost_micros": 6000}, NOW + 1, job.account_id)


# -- Idempotency-Key records: FakeIdempotencyStore and IdempotencyRepository, reserved with a job ---------------


@pytest.fixture
def keys(repository: Any, request: pytest.FixtureRequest) -> Any:
    if isinstance(repository, FakeJobRepository):
        return repository.keys
    return IdempotencyRepository(request.getfixturevalue("stack").table, client("dynamodb"))


def reservation(account_id: str, job_id: str, *, key: str = "k", now: int = NOW, ttl: int = 86400,
                fingerprint: str = "f") -> IdempotencyRecord:
    return KeyedRequest(account_id=account_id, key=key, operation="images.generations", fingerprint=fingerprint,
                        in_flight_until=now + 30).reservation(job_id, now=now).model_copy(
        update={"expires_at": now + ttl})


def test_a_key_is_reserved_with_its_job_and_refused_with_its_holder_after(repository: Any, keys: Any) -> None:
    # Given a job created with a key
    first = JobRecord(job_id=new_job_id(), account_id=new_account_id(), kind="generation", status="queued",
                      model="gpt-image-2", request={"prompt": "p"}, created_at=NOW, expires_at=NOW + 60)
    held = reservation(first.account_id, first.job_id)
    repository.create(first, key=held)

    # When a second job is created with the same key of the same account, and one with it for another account
    second = first.model_copy(update={"job_id": new_job_id()})
    with pytest.raises(KeyTaken) as taken:
        repository.create(second, key=reservation(first.account_id, second.job_id, fingerprint="other"))
    elsewhere = first.model_copy(update={"job_id": new_job_id(), "account_id": new_account_id()})
    repository.create(elsewhere, key=reservation(elsewhere.account_id, elsewhere.job_id))

    # Then the second is refused with the first request's record and nothing of it written; keys are per account
    assert taken.value.existing == held
    assert repository.get(second.job_id) is None and repository.get(elsewhere.job_id) is not None
    assert keys.get(first.account_id, held.key_hash, now=NOW) == held


def test_a_key_completes_once_for_its_own_job_and_is_released_only_by_it(repository: Any, keys: Any) -> None:
    job = JobRecord(job_id=new_job_id(), account_id=new_account_id(), kind="generation", status="queued",
                    model="gpt-image-2", request={"prompt": "p"}, created_at=NOW, expires_at=NOW + 60)
    held = reservation(job.account_id, job.job_id)
    repository.create(job, key=held)
    someone_else = held.model_copy(update={"job_id": new_job_id()})

    assert (keys.complete(someone_else), keys.complete(held), keys.complete(held)) == (False, True, False)
    assert keys.get(job.account_id, held.key_hash, now=NOW).state == "complete"
    assert (keys.release(someone_else), keys.release(held)) == (False, True)
    assert keys.get(job.account_id, held.key_hash, now=NOW) is None


def test_an_expired_key_reads_as_free_and_can_be_reserved_again(repository: Any, keys: Any) -> None:
    job = JobRecord(job_id=new_job_id(), account_id=new_account_id(), kind="generation", status="queued",
                    model="gpt-image-2", request={"prompt": "p"}, created_at=NOW, expires_at=NOW + 60)
    repository.create(job, key=reservation(job.account_id, job.job_id, ttl=10))
    later = job.model_copy(update={"job_id": new_job_id()})
    renewed = reservation(job.account_id, later.job_id, now=NOW + 11)

    assert keys.get(job.account_id, renewed.key_hash, now=NOW + 11) is None
    repository.create(later, key=renewed)
    assert keys.get(job.account_id, renewed.key_hash, now=NOW + 11).job_id == later.job_id


def test_only_a_queued_job_is_canceled_and_its_key_reserved_with_it(repository: Any, keys: Any,
                                                                     new_job: Callable[[], JobRecord]) -> None:
    # Given a queued job, a running one and a queued one that has produced outputs (a retried finish)
    queued, running, produced = new_job(), new_job(), new_job()
    repository.claim(running.job_id, token="a", now=NOW, lease_until=NOW + 10)
    repository.claim(produced.job_id, token="b", now=NOW, lease_until=NOW + 10)
    repository.record_produced(produced.job_id, token="b", produced=ProducedOutputs(outputs=[]))
    repository.release_for_retry(produced.job_id, token="b", error=JobError(code="x", message="y"), retry_at=NOW)
    key = reservation(queued.account_id, queued.job_id, key="cancel")

    # When each is canceled (the queued one with a key, then again with the same key)
    results = [cancel(repository, running.job_id, now=NOW), cancel(repository, produced.job_id, now=NOW),
               cancel(repository, queued.job_id, now=NOW + 1, key=key)]
    with pytest.raises(KeyTaken):
        cancel(repository, queued.job_id, now=NOW + 2, key=key)

    # Then only the queued job without outputs is canceled, with its key (and watched until its release is confirmed)
    assert results == [False, False, True]
    canceled = repository.get(queued.job_id)
    assert (canceled.status, canceled.completed_at, canceled.watch_at) == ("canceled", NOW + 1, NOW + 1)
    assert keys.get(queued.account_id, key.key_hash, now=NOW).job_id == queued.job_id
    assert repository.get(running.job_id).status == "running" and repository.get(produced.job_id).status == "queued"


def test_redeliveries_are_counted_per_job_and_window_up_to_the_limit(
        repository: Any, new_job: Callable[[], JobRecord]) -> None:
    # Given a job and a limit of two redeliveries per window
    job = new_job()
    window = NOW // 3600

    # When three are counted in one window, then one in the next
    counts = [repository.count_redelivery(job.job_id, window, 2) for _ in range(3)]
    later = repository.count_redelivery(job.job_id, window + 1, 2)

    # Then two are admitted, the third refused with the window's count, and the next window starts over
    assert [(c.count, c.admitted) for c in counts] == [(1, True), (2, True), (2, False)]
    assert (later.count, later.admitted) == (1, True)
    # And the job reads back as it was (the counter is not part of the record)
    reread = repository.get(job.job_id)
    assert reread is not None and reread.status == "queued"
