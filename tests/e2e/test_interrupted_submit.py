"""A submit whose function dies between writing the job and sending its message, through the local stack: the
client gets API Gateway's 500, the job sits `queued` holding its credit with no message, and the sweeper (on its
schedule, shortened here) queues it; it succeeds, charged once, and the books reconcile.

The death is real: the emulation holds the api function's SendMessage (local.aws.sqs_faults) and the test kills the
function's process (SIGKILL) while it is inside that call, as a Lambda timeout or out-of-memory kill would. Purging
the message after the submit would leave the same data, but races the workers (a message is received within
milliseconds); a send that merely fails is answered 503 and the job ended, which is a different path.
While the send is held, a retry under the same Idempotency-Key shows a request in flight (409).
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from local.aws.sqs_faults import FAULT_TAG, HOLD_SEND, HOLDING, RELEASE
from local.load.generator import balance_micros, open_account, reconcile_account
from local.stack import LoopbackStack

# local_only: its own stack, whose api process it kills mid-send
pytestmark = [pytest.mark.e2e, pytest.mark.local_only, pytest.mark.timeout(240)]

CREDIT_MICROS = 100_000
LOW_1024_MICROS = 6_000
# Past the few seconds this test holds the send: the sweeper must not have queued the job before the kill.
STALL_GRACE_SECONDS = 20
SCHEDULE_SECONDS = 2


@pytest.fixture(scope="module")
def sweeping_stack(tmp_path_factory) -> Iterator[LoopbackStack]:
    log_path = tmp_path_factory.mktemp("interrupted") / "stack.log"
    with LoopbackStack(port=0, provider_delay=0.05, quiet=True, log_path=log_path, poller_concurrency=1,
                    max_environments=2, schedule_seconds=SCHEDULE_SECONDS,
                    parameter_overrides={"SweepStallGraceSeconds": str(STALL_GRACE_SECONDS),
                                         "ProviderRetryBaseSeconds": "1"}) as stack:
        yield stack


def wait_for(condition: Callable[[], object], seconds: float, what: str) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} within {seconds} s")


def test_a_submit_killed_mid_send_is_queued_by_the_sweeper_and_charged_once(sweeping_stack: LoopbackStack):
    stack = sweeping_stack
    account = open_account(stack, credit_micros=CREDIT_MICROS)
    sqs, queue_url = stack.aws_client("sqs"), stack.resources.queues["JobsQueue"]
    headers = {"Authorization": f"Bearer {account.api_key}", "Idempotency-Key": f"interrupted-{uuid.uuid4().hex}"}
    body = {"prompt": f"interrupted #{uuid.uuid4().hex[:8]}", "quality": "low", "size": "1024x1024"}

    def fault() -> str | None:
        return sqs.list_queue_tags(QueueUrl=queue_url).get("Tags", {}).get(FAULT_TAG)

    def submit() -> httpx.Response:
        return httpx.post(f"{stack.base_url}/v1/images/generations", json=body, headers=headers, timeout=60)

    # Given the jobs queue's next send held by the emulation
    sqs.tag_queue(QueueUrl=queue_url, Tags={FAULT_TAG: HOLD_SEND})
    with ThreadPoolExecutor(1) as pool:
        # When a submit has written its job and is inside its send
        first = pool.submit(submit)
        wait_for(lambda: fault() == HOLDING, 30, "the submit reached its queue send")
        # (a retry under its key meanwhile finds it in flight)
        in_flight = submit()
        # and its function is killed there
        [pid] = stack.function_pool("ApiFunction").busy_pids()
        os.kill(pid, signal.SIGKILL)
        answer = first.result(timeout=60)
        sqs.tag_queue(QueueUrl=queue_url, Tags={FAULT_TAG: RELEASE})

    # Then the client got API Gateway's 500, and the retry a 409 naming the key in flight
    assert answer.status_code == 500 and answer.json() == {"message": "Internal Server Error"}
    assert in_flight.status_code == 409 and in_flight.json()["error"]["code"] == "idempotency_key_in_use"
    assert 1 <= int(in_flight.headers["retry-after"]) <= 5
    # And the job exists, queued and holding its price, with no message to run it
    api = httpx.Client(base_url=stack.base_url, headers={"Authorization": f"Bearer {account.api_key}"}, timeout=30)
    [job] = api.get("/v1/jobs").json()["data"]
    held = round(job["usage"]["reserved_usd"] * 1_000_000)  # the output and the prompt's worst case
    assert job["status"] == "queued" and held > LOW_1024_MICROS
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert (attributes["ApproximateNumberOfMessages"], attributes["ApproximateNumberOfMessagesNotVisible"]) == (
        "0", "0")
    assert balance_micros(stack, account.account_id) == (CREDIT_MICROS - held, 1)

    # When the sweeper's schedule passes the job's grace, Then it is queued again and runs to success
    done = wait_for(lambda: (view := api.get(f"/v1/jobs/{job['id']}").json())["status"] == "succeeded" and view,
                    STALL_GRACE_SECONDS + 40, "the sweeper queued the job and it succeeded")
    charged = round(done["usage"]["cost_usd"] * 1_000_000)  # type: ignore[index]
    assert done["data"] and done["usage"]["pricing"]["outputs_usd"] == LOW_1024_MICROS / 1_000_000  # type: ignore[index]
    assert LOW_1024_MICROS < charged <= held
    # And it was charged once: one hold, one settlement, nothing in flight, the books reconcile
    ledger = api.get("/v1/usage/ledger", params={"limit": 100}).json()["data"]
    assert sorted(entry["kind"] for entry in ledger if entry["job_id"] == job["id"]) == ["reserve", "settle"]
    assert balance_micros(stack, account.account_id) == (CREDIT_MICROS - charged, 0)
    assert reconcile_account(stack, account.account_id) == []
