"""The job lifecycle over real HTTP against the local stack: 20 identical submits at once under one Idempotency-Key
(one job, one hold), a reused key (422), then an ended job: not cancelable, listed, deleted (204, then 404)."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.e2e.operator import admin

# local_only: accounts are opened with the admin CLI on the stack's moto server
pytestmark = [pytest.mark.e2e, pytest.mark.local_only]

CONCURRENT = 20


@pytest.fixture()
def account(stack) -> tuple[str, httpx.Client]:
    """A fresh account with room for the concurrent submits (the seeded one's limits are shared by other tests)."""
    created = admin(stack, "create-account", "--name", f"lifecycle-{uuid.uuid4().hex[:6]}", "--credit", "1",
                    "--rpm", "1000")
    key = admin(stack, "create-key", created["account_id"])["api_key"]
    with httpx.Client(base_url=stack.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=90,
                      limits=httpx.Limits(max_connections=CONCURRENT)) as client:
        yield created["account_id"], client


def test_twenty_identical_submits_under_one_key_make_one_job_and_one_hold(stack, account):
    account_id, client = account
    body = {"prompt": f"one of twenty #{uuid.uuid4().hex[:8]}", "quality": "low", "size": "1024x1024"}
    key = {"Idempotency-Key": f"mobile-retry-{uuid.uuid4().hex}"}

    # When 20 clients send the same generation under the same key at once
    with ThreadPoolExecutor(CONCURRENT) as pool:
        answers = list(pool.map(lambda _: client.post("/v1/images/generations", json=body, headers=key),
                                range(CONCURRENT)))

    # Then all 20 are accepted and name the same job (a replay of a job that has ended by then is a 200, as any
    # answer about an ended job); all but the first say they are replays
    assert {answer.status_code for answer in answers} <= {200, 202}
    assert len({answer.json()["id"] for answer in answers}) == 1
    assert sorted(answer.headers.get("idempotent-replayed", "") for answer in answers) == [""] + ["true"] * 19
    # And the account has one job with one hold
    [job] = client.get("/v1/jobs").json()["data"]
    assert job["id"] == answers[0].json()["id"]
    kinds = [entry["kind"] for entry in client.get("/v1/usage/ledger").json()["data"]]
    assert kinds.count("reserve") == 1
    # And a different request under that key is refused
    reused = client.post("/v1/images/generations", json=body | {"quality": "medium"}, headers=key)
    assert reused.status_code == 422 and reused.json()["error"]["code"] == "idempotency_key_reused"
    # And once the job has ended, the books reconcile (reconcile exits non-zero on any difference)
    client.get(f"/v1/jobs/{job['id']}", headers={"Prefer": "wait=30"})
    admin(stack, "reconcile", "--account", account_id)


def test_an_ended_job_cannot_be_canceled_but_can_be_deleted_and_then_is_gone(stack, account):
    _, client = account
    # Given a job that ended while the request waited
    job = client.post("/v1/images/generations", json={"prompt": f"short-lived #{uuid.uuid4().hex[:8]}",
                                                      "quality": "low"}, headers={"Prefer": "wait=30"}).json()
    assert job["status"] == "succeeded"

    # When its owner tries to cancel it, lists its jobs, deletes it, and reads it again
    canceled = client.post(f"/v1/jobs/{job['id']}/cancel")
    listed = client.get("/v1/jobs", params={"status": "succeeded", "limit": 1}).json()
    deleted = client.delete(f"/v1/jobs/{job['id']}")

    # Then the cancel is 409 (it already ran), the listing shows it newest first, the delete is 204 with no body,
    # and from then on it does not exist for its owner
    assert canceled.status_code == 409 and canceled.json()["error"]["code"] == "job_not_cancelable"
    assert [j["id"] for j in listed["data"]] == [job["id"]]
    assert deleted.status_code == 204 and deleted.content == b""
    assert client.get(f"/v1/jobs/{job['id']}").status_code == 404
    assert job["id"] not in [j["id"] for j in client.get("/v1/jobs").json()["data"]]
