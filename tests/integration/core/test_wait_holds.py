"""Through API Gateway, one account holds at most WaitHoldsPerAccount requests open waiting at once: `Prefer: wait`
submissions on the api function and, apart, job event streams on the status function. Past it a wait is answered at
once (202 with the job, no Preference-Applied) and a stream sends the events so far and ends, so one account cannot
fill either function's reserved concurrency and leave the others Lambda's throttling errors."""

from __future__ import annotations

import base64
import json
from typing import Any

from retouch.data.account_slots import AccountSlotRepository
from retouch.models.common import now_epoch
from tests.builders import http_event, job_event, new_job_id
from tests.integration.core.aws_stack import Stack, client, json_body
from tests.integration.core.test_functions_in_one_process import API, STATUS
from tests.integration.core.test_sync_holds import running_job

HOLDS = 5  # WaitHoldsPerAccount's default in template.yaml


def _slots(stack: Stack, kind: str) -> AccountSlotRepository:
    return AccountSlotRepository(stack.table, kind=kind, count=HOLDS, client=client("dynamodb"))


def _all_taken(slots: AccountSlotRepository, account_id: str) -> None:
    now = now_epoch()
    for index in range(HOLDS):
        assert slots.acquire(account_id, f"request_elsewhere_{index}", now=now, until=now + 300)


def _waited_generation(account_id: str) -> dict[str, object]:
    return http_event("generation.json", account_id=account_id, headers={"prefer": "wait=1"})


def test_a_wait_past_the_accounts_holds_is_answered_at_once_and_the_job_still_runs(
        stack: Stack, account_id: str) -> None:
    # Given an account holding WaitHoldsPerAccount waits open on the api function (other invocations)
    slots = _slots(stack, "WAIT_HOLD")
    _all_taken(slots, account_id)

    # When it submits one more generation with Prefer: wait
    answered = stack.invoke(API, _waited_generation(account_id), remaining_millis=10_000)

    # Then it is accepted, answered at once: 202 with the job, and no Preference-Applied (the wait was not applied)
    assert answered["statusCode"] == 202, answered["body"]
    assert "Preference-Applied" not in answered["headers"]
    assert [job["job_id"]["S"] for job in stack.jobs_of(account_id)] == [json_body(answered)["id"]]

    # And once one of its waits ends, a wait is applied again, its hold given back with its answer
    slots.release(account_id, "request_elsewhere_0")
    waited = stack.invoke(API, _waited_generation(account_id), remaining_millis=10_000)
    assert waited["headers"]["Preference-Applied"].startswith("wait=")
    assert slots.acquire(account_id, "request_next", now=now_epoch(), until=now_epoch() + 300)


def test_another_accounts_waits_are_its_own(stack: Stack, account_id: str) -> None:
    # Given another account holding all its waits
    other = stack.seed_account(f"acct_{new_job_id().removeprefix('job_')}")
    _all_taken(_slots(stack, "WAIT_HOLD"), other)

    # When this account submits with Prefer: wait, its wait is applied
    waited = stack.invoke(API, _waited_generation(account_id), remaining_millis=10_000)
    assert waited["headers"]["Preference-Applied"].startswith("wait=")


def test_an_event_stream_past_the_accounts_holds_sends_the_events_so_far_and_ends(
        stack: Stack, account_id: str) -> None:
    # Given a running job, and an account holding WaitHoldsPerAccount event streams open on the status function
    job_id = running_job(stack, account_id)
    slots = _slots(stack, "EVENTS_HOLD")
    _all_taken(slots, account_id)

    # When it follows the job's events once more, from the start
    stream = stack.invoke(STATUS, _from_the_start(job_event("get_job_events.json", job_id, account_id=account_id)),
                          remaining_millis=20_000)

    # Then the stream has the events so far and ends at once, telling the client to come back in 5 s
    assert stream["statusCode"] == 200
    body = _text(stream)
    assert body.startswith("retry: 5000") and "event: job.running" in body

    # And under the limit, the stream is held (the client is told to come back in 1 s, as at any held stream's end),
    # and its hold is given back at its end
    slots.release(account_id, "request_elsewhere_0")
    following = stack.invoke(STATUS, job_event("get_job_events.json", job_id, account_id=account_id),
                             remaining_millis=4_000)
    assert _text(following).startswith("retry: 1000")
    assert slots.acquire(account_id, "request_next", now=now_epoch(), until=now_epoch() + 300)


def _from_the_start(event: dict[str, Any]) -> dict[str, Any]:
    del event["headers"]["last-event-id"]  # the sample resumes after event 1
    return event


def _text(response: dict[str, object]) -> str:
    body = response["body"]
    assert isinstance(body, str)
    return base64.b64decode(body).decode() if response.get("isBase64Encoded") else body


def test_a_stream_past_the_accounts_holds_is_answered_at_once_not_refused(stack: Stack, account_id: str) -> None:
    # Given an account holding WaitHoldsPerAccount waits open on the api function
    slots = _slots(stack, "WAIT_HOLD")
    _all_taken(slots, account_id)

    # When it asks for a streamed generation through API Gateway
    event = http_event("generation.json", account_id=account_id)
    body = json.loads(event["body"])
    event["body"] = json.dumps({**body, "stream": True})
    answered = stack.invoke(API, event, remaining_millis=10_000)

    # Then the job is created and the stream answered at once, with what the job has so far (the client reads the
    # rest from the job, as when a stream outlives API Gateway's 30 s), not refused as on the sync entry
    assert answered["statusCode"] == 200, answered["body"]
    assert answered["headers"]["Content-Type"].startswith("text/event-stream")
    assert len(stack.jobs_of(account_id)) == 1
