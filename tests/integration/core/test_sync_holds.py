"""Issue #24 (1): the synchronous entry holds at most SyncHoldsPerAccount requests of one account at once; past it,
429 sync_hold_limit_exceeded before anything is written, while `Prefer: respond-async` (never held) is accepted."""

from __future__ import annotations

import json

from retouch.admin.accounts import issue_key
from retouch.data.account_slots import AccountSlotRepository
from retouch.data.accounts import AccountRepository
from retouch.data.jobs import JobRepository
from retouch.models.common import now_epoch
from retouch.models.records import JobRecord
from tests.builders import job_event, new_job_id
from tests.integration.core.aws_stack import Stack, client, json_body
from tests.integration.core.test_functions_in_one_process import SYNC, _generation, _on_the_url

HOLDS = 3  # SyncHoldsPerAccount's default in template.yaml


def test_an_account_holding_its_limit_on_the_sync_entry_is_refused_429_and_nothing_is_written(
        stack: Stack, account_id: str) -> None:
    # Given an account whose SyncHoldsPerAccount requests are held open on the sync entry (other invocations)
    authorization = f"Bearer {issue_key(AccountRepository(stack.table, client('dynamodb')), account_id).raw_key}"
    holds = AccountSlotRepository(stack.table, kind="SYNC_HOLD", count=HOLDS, client=client("dynamodb"))
    now = now_epoch()
    for index in range(HOLDS):
        assert holds.acquire(account_id, f"request_elsewhere_{index}", now=now, until=now + 300)

    # When it sends one more generation to the sync URL
    refused = stack.invoke(SYNC, _on_the_url(_generation(account_id), authorization), remaining_millis=4_000)

    # Then it is 429 sync_hold_limit_exceeded with Retry-After, and no job was created
    assert refused["statusCode"] == 429, refused["body"]
    error = json_body(refused)["error"]
    assert (error["type"], error["code"]) == ("rate_limit_error", "sync_hold_limit_exceeded")
    assert int(refused["headers"]["Retry-After"]) > 0
    assert stack.jobs_of(account_id) == []

    # And asking not to be held is accepted at once; once a hold ends, a held request is accepted again
    not_held = _on_the_url(_generation(account_id), authorization)
    not_held["headers"]["prefer"] = "respond-async"
    assert stack.invoke(SYNC, not_held, remaining_millis=4_000)["statusCode"] == 202
    holds.release(account_id, "request_elsewhere_0")
    held = stack.invoke(SYNC, _on_the_url(_generation(account_id), authorization), remaining_millis=4_000)
    assert held["statusCode"] == 202 and held["headers"]["Preference-Applied"].startswith("wait=")
    # and its own hold was given back with its answer
    assert holds.acquire(account_id, "request_next", now=now_epoch(), until=now_epoch() + 300)


def _streamed_generation(account_id: str, authorization: str) -> dict[str, object]:
    event = _on_the_url(_generation(account_id), authorization)
    body = json.loads(event["body"])
    event["body"] = json.dumps({**body, "stream": True})
    event["headers"]["prefer"] = "respond-async"  # a stream follows its job whatever Prefer says
    return event


def test_a_stream_holds_one_of_the_accounts_holds_until_it_ends(stack: Stack, account_id: str) -> None:
    # Given an account whose holds on the sync entry are all taken but one
    authorization = f"Bearer {issue_key(AccountRepository(stack.table, client('dynamodb')), account_id).raw_key}"
    holds = AccountSlotRepository(stack.table, kind="SYNC_HOLD", count=HOLDS, client=client("dynamodb"))
    now = now_epoch()
    for index in range(HOLDS - 1):
        assert holds.acquire(account_id, f"request_elsewhere_{index}", now=now, until=now + 300)

    # When it streams a generation (stream=true, even with Prefer: respond-async)
    streamed = stack.invoke(SYNC, _streamed_generation(account_id, authorization), remaining_millis=4_000)
    assert streamed.status_code == 200

    # Then, while its stream is being sent, the stream holds the last one: one more stream is refused 429
    refused = stack.invoke(SYNC, _streamed_generation(account_id, authorization), remaining_millis=4_000)
    assert refused["statusCode"] == 429, refused["body"]
    assert json_body(refused)["error"]["code"] == "sync_hold_limit_exceeded"

    # And once its stream has ended, its hold is given back
    b"".join(streamed.chunks)
    assert holds.acquire(account_id, "request_next", now=now_epoch(), until=now_epoch() + 300)


def running_job(stack: Stack, account_id: str) -> str:
    record = JobRecord(job_id=new_job_id(), account_id=account_id, kind="generation", status="running",
                       model="gpt-image-2", request={"prompt": "p"}, created_at=now_epoch(), started_at=now_epoch(),
                       expires_at=now_epoch() + 86400)
    JobRepository(stack.table, client("dynamodb")).create(record)
    return record.job_id


def test_following_a_jobs_events_on_the_sync_entry_holds_one_of_the_accounts_holds(
        stack: Stack, account_id: str) -> None:
    # Given a running job, and an account whose holds on the sync entry are all taken but one
    authorization = f"Bearer {issue_key(AccountRepository(stack.table, client('dynamodb')), account_id).raw_key}"
    job_id = running_job(stack, account_id)
    holds = AccountSlotRepository(stack.table, kind="SYNC_HOLD", count=HOLDS, client=client("dynamodb"))
    now = now_epoch()
    for index in range(HOLDS - 1):
        assert holds.acquire(account_id, f"request_elsewhere_{index}", now=now, until=now + 300)

    # When it follows the job's events on the sync URL
    following = stack.invoke(SYNC, _on_the_url(job_event("get_job_events.json", job_id, account_id=account_id),
                                               authorization), remaining_millis=4_000)
    assert following.status_code == 200

    # Then, while that stream is sent, a second one is refused 429: the account's holds are all taken
    refused = stack.invoke(SYNC, _on_the_url(job_event("get_job_events.json", job_id, account_id=account_id),
                                             authorization), remaining_millis=4_000)
    assert refused["statusCode"] == 429, refused["body"]
    assert json_body(refused)["error"]["code"] == "sync_hold_limit_exceeded"

    # And once the stream has ended, its hold is given back
    b"".join(following.chunks)
    assert holds.acquire(account_id, "request_next", now=now_epoch(), until=now_epoch() + 300)
