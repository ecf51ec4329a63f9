"""Idempotency-Key on submits (jobs/idempotency with jobs/submit) on fakes: replays, reuse, requests in flight,
lost races, released keys; what each leaves behind."""

from __future__ import annotations

from typing import Any

import pytest

from retouch.errors import IdempotencyKeyInUse, IdempotencyKeyReused, InvalidIdempotencyKey, JobNotFound
from retouch.jobs.idempotency import (
    KEY_TTL_SECONDS,
    KeyedRequest,
    Outcome,
    checked_key,
    fingerprint,
    keyed_request,
    once,
    replayed_job,
    required_key,
)
from retouch.jobs.submit import SubmitDeps, submit_edit, submit_generation
from retouch.models.common import now_epoch
from retouch.models.requests import EditRequest, GenerationRequest
from retouch.web.request_parsing import parse_edit
from tests.builders import admission_for, file_part, generation_payload, multipart_event, new_account_id, png
from tests.fakes import FakeFileRepository, FakeIdempotencyStore, FakeJobQueue, FakeJobRepository, FakeObjectStore
from tests.fakes.wiring import submit_deps_over


class Clock:
    """A monotonic clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def generation(**overrides: Any) -> GenerationRequest:
    return GenerationRequest.model_validate(generation_payload(**overrides))


def keyed(account_id: str, key: str, operation: str, request: Any, seconds_left: float = 29) -> KeyedRequest:
    made = keyed_request(key, account_id, operation, request, seconds_left=seconds_left)
    assert made is not None
    return made


def submit(deps: SubmitDeps, account_id: str, request: Any, key: str | None, *, clock: Clock | None = None,
           operation: str = "images.generations") -> Outcome:
    """What the api function does with a parsed request: submit once per key, else replay."""
    submit_one = submit_edit if isinstance(request, EditRequest) else submit_generation
    clock = clock or Clock()
    return once(keyed_request(key, account_id, operation, request, seconds_left=29), deps.keys,
                lambda first: submit_one(admission_for(deps.billing.ledger, account_id), request, deps,
                                         idempotency=first),
                lambda job_id: replayed_job(deps.jobs, account_id, job_id), sleep=clock.sleep, clock=clock)


@pytest.fixture
def account_id() -> str:
    return new_account_id()


# -- The key itself ------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["a", "x" * 255, "order 42 / retry #1 ~!", "550e8400-e29b-41d4-a716-446655440000"])
def test_keys_of_1_to_255_printable_ascii_characters_are_accepted(key: str) -> None:
    assert checked_key(key) == key


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9", "tab\there", "new\nline", "trailing\n", "\x7f"])
def test_other_keys_are_a_400_naming_the_header(key: str) -> None:
    with pytest.raises(InvalidIdempotencyKey) as refused:
        checked_key(key)
    assert (refused.value.status_code, refused.value.code, refused.value.param) == (
        400, "invalid_idempotency_key", "Idempotency-Key")


def test_a_route_that_requires_a_key_refuses_none_and_a_bad_one_naming_the_header() -> None:
    # Given a route that moves money once per key (the operator's credit adjustment)
    assert required_key("adjust-0001") == "adjust-0001"

    # Then no key, or a malformed one, is a 400 naming the header
    for key in (None, "", "caf\u00e9"):
        with pytest.raises(InvalidIdempotencyKey) as refused:
            required_key(key)
        assert (refused.value.status_code, refused.value.code, refused.value.param) == (
            400, "invalid_idempotency_key", "Idempotency-Key")


def test_the_fingerprint_covers_the_route_the_parameters_and_the_input_bytes(account_id: str) -> None:
    def edit(image: bytes, prompt: str = "a hat") -> EditRequest:
        return parse_edit(multipart_event([("prompt", prompt), file_part("image", image)], account_id=account_id),
                          1 << 26)

    same = fingerprint("images.edits", edit(png(96, 64)))
    assert fingerprint("images.edits", edit(png(96, 64))) == same
    assert fingerprint("images.edits", edit(png(96, 64), prompt="a cap")) != same
    assert fingerprint("images.edits", edit(png(64, 96))) != same
    assert fingerprint("images.generations", edit(png(96, 64))) != same


# -- Replays and reuse ----------------------------------------------------------------------------------


def test_the_same_request_again_replays_the_original_job_and_writes_nothing(
        submit_deps: SubmitDeps, jobs: FakeJobRepository, store: FakeObjectStore, queue: FakeJobQueue,
        account_id: str) -> None:
    # Given an edit submitted under a key
    request = parse_edit(multipart_event([("prompt", "a hat"), file_part("image", png())], account_id=account_id),
                         1 << 26)
    first = submit(submit_deps, account_id, request, "key-1", operation="images.edits")

    # When the same request comes again under the same key
    again = submit(submit_deps, account_id, request, "key-1", operation="images.edits")

    # Then it is the original job, replayed; one job, one input, one message; the key is complete
    assert (first.replayed, again.replayed) == (False, True) and again.record.job_id == first.record.job_id
    assert len(jobs.items) == 1 and len(store.objects) == 1 and queue.sent == [first.record.job_id]
    [record] = jobs.keys.records.values()
    assert (record.job_id, record.state, record.operation) == (first.record.job_id, "complete", "images.edits")
    assert record.expires_at - record.created_at == KEY_TTL_SECONDS


def test_a_different_request_under_the_same_key_is_a_422_and_writes_nothing(
        submit_deps: SubmitDeps, jobs: FakeJobRepository, queue: FakeJobQueue, account_id: str) -> None:
    # Given a generation submitted under a key
    submit(submit_deps, account_id, generation(prompt="a fox"), "key-2")

    # When another prompt, or the same one on the other route, comes under that key
    with pytest.raises(IdempotencyKeyReused) as other_prompt:
        submit(submit_deps, account_id, generation(prompt="a wolf"), "key-2")
    with pytest.raises(IdempotencyKeyReused):
        submit(submit_deps, account_id, generation(prompt="a fox"), "key-2", operation="images.edits")

    # Then both are 422 idempotency_key_reused, and still only the first job exists
    assert (other_prompt.value.status_code, other_prompt.value.code) == (422, "idempotency_key_reused")
    assert len(jobs.items) == 1 and len(queue.sent) == 1


def test_keys_are_scoped_per_account_and_expire(submit_deps: SubmitDeps, jobs: FakeJobRepository,
                                                account_id: str) -> None:
    # Given a job submitted under a key
    first = submit(submit_deps, account_id, generation(), "key-3")

    # When another account uses the same key, and the owner uses it again after it expired
    other = submit(submit_deps, new_account_id(), generation(), "key-3")
    [(held_at, record)] = [(k, r) for k, r in jobs.keys.records.items() if k[0] == account_id]
    jobs.keys.records[held_at] = record.model_copy(update={"expires_at": now_epoch() - 1})
    later = submit(submit_deps, account_id, generation(), "key-3")

    # Then each is a new job
    assert not other.replayed and not later.replayed
    assert len({first.record.job_id, other.record.job_id, later.record.job_id}) == 3


def test_a_replay_of_a_deleted_job_is_a_404(submit_deps: SubmitDeps, jobs: FakeJobRepository,
                                            account_id: str) -> None:
    first = submit(submit_deps, account_id, generation(), "key-4")
    jobs.set(first.record.job_id, status="succeeded", deleted_at=now_epoch())

    with pytest.raises(JobNotFound) as gone:
        submit(submit_deps, account_id, generation(), "key-4")
    assert gone.value.status_code == 404 and gone.value.param == "Idempotency-Key"


# -- In flight ------------------------------------------------------------------------------------------


def in_flight(jobs: FakeJobRepository, account_id: str, request: Any, *, until: int, job_id: str) -> KeyedRequest:
    """Given-state: an earlier identical request wrote its job and key and has not queued the job yet."""
    earlier = keyed(account_id, "key-5", "images.generations", request)
    jobs.keys.reserve(earlier.reservation(job_id, now=now_epoch()).model_copy(update={"in_flight_until": until}))
    return earlier


def without_completion(deps: SubmitDeps) -> SubmitDeps:
    """Deps whose submit writes the job and its key but never marks the key complete (as if it died before)."""
    class NoCompletion(FakeIdempotencyStore):
        def __init__(self, inner: FakeIdempotencyStore) -> None:
            self.inner = inner

        def get(self, *args: Any, **kwargs: Any) -> Any:
            return self.inner.get(*args, **kwargs)

        def complete(self, record: Any) -> bool:
            return False

    keys = NoCompletion(deps.jobs.keys)
    return submit_deps_over(jobs=deps.jobs, store=deps.store, queue=deps.queue, files=deps.files, keys=keys)


def test_a_request_finding_the_key_in_flight_waits_then_answers_409_with_retry_after(
        submit_deps: SubmitDeps, jobs: FakeJobRepository, queue: FakeJobQueue, account_id: str) -> None:
    # Given an identical request in flight (its function has 20 s left)
    request = generation()
    in_flight(jobs, account_id, request, until=now_epoch() + 20, job_id="job_" + "e" * 24)
    clock = Clock()

    # When the retry comes and the earlier request never finishes
    with pytest.raises(IdempotencyKeyInUse) as busy:
        submit(submit_deps, account_id, request, "key-5", clock=clock)

    # Then it waited a few seconds, then 409 idempotency_key_in_use with Retry-After; nothing was written
    assert (busy.value.status_code, busy.value.code) == (409, "idempotency_key_in_use")
    assert 1 <= int(busy.value.headers["Retry-After"]) <= 5
    assert 4 <= clock.now <= 6 and jobs.items == {} and queue.sent == []


def test_a_request_finding_the_key_in_flight_replays_once_the_earlier_one_completes(
        submit_deps: SubmitDeps, jobs: FakeJobRepository, account_id: str) -> None:
    # Given an identical request in flight, which completes while the retry waits
    request = generation()
    earlier = submit(without_completion(submit_deps), account_id, request, "key-6")  # the key stays processing
    clock = Clock()

    class CompletesLater(FakeIdempotencyStore):
        def get(self, account_id: str, key_hash: str, *, now: int) -> Any:
            if clock.slept:
                for record in jobs.keys.records.values():
                    jobs.keys.complete(record)
            return jobs.keys.get(account_id, key_hash, now=now)

    # When the retry comes
    deps = submit_deps_over(jobs=jobs, store=submit_deps.store, queue=submit_deps.queue, files=submit_deps.files,
                      keys=CompletesLater())
    again = submit(deps, account_id, request, "key-6", clock=clock)

    # Then it replays the earlier job once that completed
    assert again.replayed and again.record.job_id == earlier.record.job_id and clock.slept


def test_a_key_left_processing_by_a_request_that_died_is_replayed_after_its_deadline(
        submit_deps: SubmitDeps, jobs: FakeJobRepository, account_id: str) -> None:
    # Given a job whose submitting function died after writing it (its key processing, its deadline passed)
    request = generation()
    first = submit(without_completion(submit_deps), account_id, request, "key-7")
    [(held_at, record)] = list(jobs.keys.records.items())
    jobs.keys.records[held_at] = record.model_copy(update={"in_flight_until": now_epoch() - 1})

    # When the client retries
    clock = Clock()
    again = submit(submit_deps, account_id, request, "key-7", clock=clock)

    # Then the job is replayed at once (it exists; the sweeper queues it)
    assert again.replayed and again.record.job_id == first.record.job_id and clock.slept == []


def test_a_key_whose_job_died_before_its_hold_is_not_replayed_and_is_freed_with_the_job(
        submit_deps: SubmitDeps, jobs: FakeJobRepository, account_id: str) -> None:
    # Given a job whose submitting function died after writing it and its key, before the hold (deadline passed)
    request = generation()
    first = submit(without_completion(submit_deps), account_id, request, "key-8")
    [(held_at, record)] = list(jobs.keys.records.items())
    jobs.keys.records[held_at] = record.model_copy(update={"in_flight_until": now_epoch() - 1})
    jobs.set(first.record.job_id, hold_pending=first.record.reserved_micros)

    # When the client retries, then it is told to retry shortly (the job is not accepted: no 202 for it)
    with pytest.raises(IdempotencyKeyInUse):
        submit(submit_deps, account_id, request, "key-8", clock=Clock())

    # And when the sweeper finds it never held, the job goes with its key, so the next retry makes a new job
    stored = jobs.get(first.record.job_id)
    assert stored is not None and submit_deps.billing.complete_hold(stored) is False
    assert jobs.keys.records == {}
    again = submit(submit_deps, account_id, request, "key-8")
    assert not again.replayed and again.record.job_id != first.record.job_id


def test_a_request_that_loses_the_race_deletes_its_inputs_and_replays_the_winner(
        submit_deps: SubmitDeps, jobs: FakeJobRepository, store: FakeObjectStore, queue: FakeJobQueue,
        account_id: str) -> None:
    # Given an identical request that committed after this one looked (the lookup missed it)
    request = parse_edit(multipart_event([("prompt", "a hat"), file_part("image", png())], account_id=account_id),
                         1 << 26)
    winner = submit(submit_deps, account_id, request, "key-8", operation="images.edits")

    class LookedTooEarly(FakeIdempotencyStore):
        looked = False

        def get(self, *args: Any, **kwargs: Any) -> Any:
            if not self.looked:
                self.looked = True
                return None
            return jobs.keys.get(*args, **kwargs)

    # When this one's transaction finds the key taken
    deps = submit_deps_over(jobs=jobs, store=store, queue=queue, files=FakeFileRepository(), keys=LookedTooEarly())
    loser = submit(deps, account_id, request, "key-8", operation="images.edits")

    # Then it answers the winner's job; its own input is deleted, no second job or message
    assert loser.replayed and loser.record.job_id == winner.record.job_id
    assert len(jobs.items) == 1 and len(store.objects) == 1 and queue.sent == [winner.record.job_id]


def test_a_job_that_could_not_be_queued_releases_its_key(jobs: FakeJobRepository, store: FakeObjectStore,
                                                        account_id: str) -> None:
    # Given a queue that refuses the first message
    down = FakeJobQueue(unavailable=True)
    deps = submit_deps_over(jobs=jobs, store=store, queue=down, files=FakeFileRepository(), keys=jobs.keys)
    with pytest.raises(Exception) as unavailable:
        submit(deps, account_id, generation(), "key-9")
    assert getattr(unavailable.value, "status_code", None) == 503

    # When the client retries under the same key once the queue is back
    deps = submit_deps_over(jobs=jobs, store=store, queue=FakeJobQueue(), files=FakeFileRepository(), keys=jobs.keys)
    retry = submit(deps, account_id, generation(), "key-9")

    # Then the retry is a new job (the first one ended failed, and holds no key)
    assert not retry.replayed and len(jobs.items) == 2
    assert {item["status"] for item in jobs.items.values()} == {"failed", "queued"}
