"""Webhooks end to end: the local stack (API, worker, webhooks queue, webhook function) and a receiver on
loopback that verifies every request with the standardwebhooks library, exactly as a customer's would.

The shared e2e stack runs with a shortened retry schedule (1 s, 1 s, 1 s: four attempts) and a 2 s attempt timeout
(tests/e2e/conftest.py); the module has its own account, so its default URL and secrets are its own.
"""

from __future__ import annotations

import io
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from PIL import Image

from retouch.data.webhooks import WebhookSettingsRepository
from retouch.models.common import now_epoch
from retouch.webhooks.account import retire_old_secrets, rotate_secret
from tests.e2e.operator import admin
from tests.integration.webhooks.receiver import Received, Receiver

# local_only: moto clients, the admin CLI on moto, and the stand-in's faults
pytestmark = [pytest.mark.e2e, pytest.mark.local_only]

ATTEMPTS = 4
TERMINAL = {"succeeded", "failed", "canceled"}


@dataclass(frozen=True)
class Customer:
    account_id: str
    api_key: str


@pytest.fixture(scope="module")
def customer(stack) -> Customer:
    """The module's own account on the shared stack: its default webhook URL and secrets are this module's alone."""
    account = admin(stack, "create-account", "--name", f"webhooks-{uuid.uuid4().hex[:6]}", "--credit", "5",
                    "--rpm", "1000")
    return Customer(account["account_id"], admin(stack, "create-key", account["account_id"])["api_key"])


@pytest.fixture(scope="module")
def settings(stack, customer) -> WebhookSettingsRepository:
    repo = WebhookSettingsRepository(stack.resources.tables["Table"], stack.aws_client("dynamodb"))
    rotate_secret(repo, customer.account_id)  # what `retouch-admin webhooks rotate-secret` does
    return repo


def secrets_now(settings: WebhookSettingsRepository, customer: Customer) -> list[str]:
    """The secrets the customer was shown (the admin tool prints each once)."""
    return settings.get(customer.account_id).signing_secrets(now_epoch())


@pytest.fixture
def http(stack, customer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.base_url, headers={"Authorization": f"Bearer {customer.api_key}"},
                      timeout=60) as client:
        yield client


@pytest.fixture
def receiver(settings, customer) -> Iterator[Receiver]:
    with Receiver(secrets=secrets_now(settings, customer)) as running:
        yield running


def generate(http: httpx.Client, prompt: str, **fields) -> dict:
    response = http.post("/v1/images/generations", json={"prompt": f"{prompt} #{uuid.uuid4().hex[:8]}", **fields})
    assert response.status_code == 202, response.text
    return response.json()


def poll(http: httpx.Client, job_id: str, until, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    job = {}
    while time.monotonic() < deadline:
        job = http.get(f"/v1/jobs/{job_id}").json()
        if until(job):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not reach the expected state within {timeout}s: {job}")


def ended(job: dict) -> bool:
    return job["status"] in TERMINAL


def deliveries_done(count: int):
    return lambda job: ended(job) and len((job.get("webhook") or {}).get("deliveries", [])) >= count


def of_job(requests: list[Received], job_id: str) -> list[Received]:
    return [r for r in requests if r.payload and r.payload["data"]["id"] == job_id]


def settle(receiver: Receiver, count: int, timeout: float = 20, quiet: float = 1.5) -> list[Received]:
    """Wait for `count` requests, then a quiet moment to catch any extra (duplicates, followed redirects)."""
    receiver.wait_for(count, timeout)
    time.sleep(quiet)
    return list(receiver.requests)


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_succeeded_and_a_failed_job_each_send_exactly_one_verified_event(http, receiver):
    # Given two jobs with a webhook (default events: the terminal ones), one the provider will refuse
    good = generate(http, "a lighthouse", webhook_url=receiver.url)
    bad = generate(http, "a lighthouse [fault:safety]", webhook_url=receiver.url)
    # When both end and their events are delivered
    requests = settle(receiver, 2)
    # Then each job produced exactly one request, verified, of the right type, carrying the job as GET shows it
    [succeeded], [failed] = of_job(requests, good["id"]), of_job(requests, bad["id"])
    assert len(requests) == 2 and all(r.verified_by for r in requests)
    assert succeeded.payload["type"] == "job.succeeded" and failed.payload["type"] == "job.failed"
    assert succeeded.webhook_id == succeeded.payload["id"] and succeeded.headers["content-type"] == "application/json"
    assert abs(int(succeeded.headers["webhook-timestamp"]) - time.time()) < 60
    assert failed.payload["data"]["error"]["code"] == "moderation_blocked"
    image_url = succeeded.payload["data"]["data"][0]["url"]
    assert httpx.get(image_url, timeout=10).status_code == 200  # a receiver can fetch the output later
    # And the job shows the delivery
    job = poll(http, good["id"], deliveries_done(1))
    assert job["webhook"]["url"] == receiver.url
    assert job["webhook"]["events"] == ["job.succeeded", "job.failed", "job.canceled"]
    [delivery] = job["webhook"]["deliveries"]
    assert (delivery["event_id"], delivery["type"], delivery["attempt"], delivery["status_code"]) == (
        succeeded.webhook_id, "job.succeeded", 1, 200)


def test_a_receiver_failing_twice_sees_three_attempts_with_one_webhook_id(http, receiver):
    receiver.script(500, 503)
    job = generate(http, "a tram", webhook_url=receiver.url)
    requests = settle(receiver, 3)
    assert len(requests) == 3 and len({r.webhook_id for r in requests}) == 1
    assert all(r.verified_by for r in requests)
    shown = poll(http, job["id"], deliveries_done(3))["webhook"]["deliveries"]
    assert [(d["attempt"], d["status_code"]) for d in shown] == [(1, 500), (2, 503), (3, 200)]


def test_a_receiver_that_always_fails_gets_every_attempt_then_the_event_is_dead_lettered(stack, http, receiver):
    receiver.script(*([500] * 10))
    job = generate(http, "a canal", webhook_url=receiver.url)
    requests = settle(receiver, ATTEMPTS, quiet=2.5)
    assert len(requests) == ATTEMPTS and len({r.webhook_id for r in requests}) == 1
    shown = poll(http, job["id"], deliveries_done(ATTEMPTS))
    assert shown["status"] == "succeeded"  # a webhook failure never changes the job
    last = shown["webhook"]["deliveries"][-1]
    assert last["attempt"] == ATTEMPTS and last["outcome"] == "failed" and "gave up" in last["error"]
    dead = _dead_lettered(stack, requests[0].webhook_id)
    assert dead["job_id"] == job["id"]


def _dead_lettered(stack, event_id: str, timeout: float = 10) -> dict:
    sqs = stack.aws_client("sqs")
    url = stack.resources.queues["WebhooksDeadLetterQueue"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                           VisibilityTimeout=0).get("Messages", []):
            body = json.loads(message["Body"])
            if body["event_id"] == event_id:
                return body
    raise AssertionError(f"{event_id} is not on the webhooks DLQ")


def test_a_redirecting_receiver_is_not_followed(http, receiver):
    elsewhere = receiver.url.replace("/hooks", "/elsewhere")
    receiver.script((307, {"location": elsewhere}), (302, {"location": elsewhere}))
    job = generate(http, "a harbour", webhook_url=receiver.url)
    requests = settle(receiver, 3)
    assert [r.path for r in requests] == ["/hooks", "/hooks", "/hooks"]
    shown = poll(http, job["id"], deliveries_done(3))["webhook"]["deliveries"]
    assert [d["status_code"] for d in shown] == [307, 302, 200]


def test_during_a_secret_rotation_both_secrets_verify(customer, settings, http):
    old = secrets_now(settings, customer)[0]
    new = rotate_secret(settings, customer.account_id, window_seconds=3600)
    try:
        with Receiver(secrets=[old, new]) as receiver:
            generate(http, "a windmill", webhook_url=receiver.url)
            [request] = settle(receiver, 1)
        assert request.verified_by == [0, 1]
        assert len(request.headers["webhook-signature"].split(" ")) == 2
    finally:
        retire_old_secrets(settings, customer.account_id)
    with Receiver(secrets=[old, new]) as receiver:
        generate(http, "a windmill", webhook_url=receiver.url)
        [request] = settle(receiver, 1)
    assert request.verified_by == [1]  # once the window is closed only the new secret signs


def test_started_events_and_multipart_edits(http, receiver):
    response = http.post("/v1/images/edits", files={"image": ("photo.png", png_bytes(), "image/png")}, data={
        "prompt": f"add a hat #{uuid.uuid4().hex[:8]}", "webhook_url": receiver.url,
        "webhook_events": "job.started,job.succeeded"})
    assert response.status_code == 202, response.text
    requests = settle(receiver, 2)
    assert sorted(r.payload["type"] for r in requests) == ["job.started", "job.succeeded"]
    started = next(r for r in requests if r.payload["type"] == "job.started")
    assert started.payload["data"]["status"] == "running"


def test_redeliver_sends_the_latest_event_again_with_the_same_webhook_id(http, receiver):
    job = generate(http, "a bridge", webhook_url=receiver.url)
    [first] = settle(receiver, 1)
    answer = http.post(f"/v1/jobs/{job['id']}/webhooks/redeliver")
    assert answer.status_code == 202 and answer.json()["event_id"] == first.webhook_id
    requests = settle(receiver, 2)
    assert len(requests) == 2 and requests[1].webhook_id == first.webhook_id and requests[1].verified_by


def test_redeliver_without_a_webhook_is_409(http):
    job = generate(http, "a quiet street")
    poll(http, job["id"], ended)
    answer = http.post(f"/v1/jobs/{job['id']}/webhooks/redeliver")
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "no_webhook_event"


@pytest.mark.parametrize("url", [
    "https://169.254.169.254/latest/meta-data/",
    "https://10.0.0.1/hook",
    "http://example.com/hook",
    "https://[::1]/hook",
    "not-a-url",
])
def test_a_bad_webhook_url_is_refused_at_submit(http, url):
    response = http.post("/v1/images/generations", json={"prompt": "a fox", "webhook_url": url})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_webhook_url"
    assert response.json()["error"]["param"] == "webhook_url"
    multipart = http.post("/v1/images/edits", files={"image": ("p.png", png_bytes(), "image/png")},
                          data={"prompt": "a fox", "webhook_url": url})
    assert multipart.status_code == 400 and multipart.json()["error"]["code"] == "invalid_webhook_url"


def test_the_admin_tool_sets_the_default_url_and_never_shows_a_secret_again(stack, customer, http, settings):
    import os
    import subprocess
    import sys

    # Given an operator's shell pointed at the stack
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1",
           "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "layers" / "common")}
    base = [sys.executable, "-m", "retouch.admin.cli", "--table", stack.resources.tables["Table"],
            "--endpoint-url", stack.aws_endpoint_url, "webhooks"]

    def webhooks_cli(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run([*base, *argv], env=env, capture_output=True, text=True, timeout=60, check=False)

    with Receiver(secrets=secrets_now(settings, customer)) as receiver:
        # When the account's default URL is set, and a job gives no webhook_url
        assert webhooks_cli("set-url", customer.account_id, receiver.url, "--allow-host", "127.0.0.1").returncode == 0
        try:
            job = generate(http, "a default hook")
            [request] = settle(receiver, 1)
        finally:
            assert webhooks_cli("clear-url", customer.account_id).returncode == 0
    # Then the job's event went to the default URL, and `show` lists secrets without printing them
    assert request.payload["data"]["id"] == job["id"] and request.verified_by
    shown = webhooks_cli("show", customer.account_id)
    assert shown.returncode == 0 and "whsec_" not in shown.stdout and "signing secrets: 1" in shown.stdout
