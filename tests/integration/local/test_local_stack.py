"""LoopbackStack end to end over loopback HTTP, on the dummy template (the real functions have their own e2e tier)."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from local.lambdas.invocation import FunctionError
from local.stack import LoopbackStack
from tests.integration.local.conftest import DUMMY_TEMPLATE


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[LoopbackStack]:
    log_path = tmp_path_factory.mktemp("local-stack") / "stack.log"
    with LoopbackStack(template_path=DUMMY_TEMPLATE, seed=False, use_stand_ins=False, quiet=True, log_path=log_path,
                    parameter_overrides={"Greeting": "hi"}, poller_concurrency=2) as running:
        yield running


@pytest.fixture()
def http(stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.base_url, timeout=60) as client:
        yield client


def test_the_stack_starts_within_seconds_and_reports_where_it_is(stack):
    assert stack.startup_seconds < 15
    assert stack.base_url.startswith("http://127.0.0.1:")
    assert stack.aws_endpoint_url.startswith("http://127.0.0.1:")
    assert stack.provider is None and stack.api_key is None
    assert set(stack.resources.queues) == {"WorkQueue", "WorkDeadLetterQueue"}


def test_unknown_routes_are_404_and_protected_routes_need_the_authorizer(http):
    assert (http.get("/nope").status_code, http.get("/nope").json()) == (404, {"message": "Not Found"})
    assert http.post("/echo/1").json() == {"message": "Unauthorized"}
    assert http.post("/echo/1").status_code == 401
    denied = http.post("/echo/1", headers={"Authorization": "Bearer nope"})
    assert (denied.status_code, denied.json()) == (403, {"message": "Forbidden"})
    assert http.post("/echo/1", headers={"Authorization": "Bearer explode"}).status_code == 500


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND", "BREW", "PUT", "DELETE"])
def test_any_method_without_a_route_is_apigateways_json_404(http, method):
    # Given a method no route declares (http.server alone would answer 501 with an HTML page)
    response = http.request(method, "/echo/1")

    # Then the gateway answers as API Gateway does
    assert (response.status_code, response.json()) == (404, {"message": "Not Found"})
    assert response.headers["content-type"] == "application/json"


def test_an_authorized_request_reaches_its_function_as_a_v2_event(http):
    # When an authorized client posts JSON with a query string and cookies
    response = http.post("/echo/item%201?size=2&size=3", json={"n": 1},
                         headers={"Authorization": "Bearer allow-alice", "Cookie": "a=1; b=2"})
    # Then the function's response is mapped back, cookies included
    assert response.status_code == 201
    assert response.headers["x-dummy"] == "yes"
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]
    seen = response.json()
    event = seen["event"]
    # And the function saw API Gateway's event with the authorizer's context
    assert event["routeKey"] == "POST /echo/{item_id}"
    assert event["pathParameters"] == {"item_id": "item 1"}
    assert event["queryStringParameters"] == {"size": "2,3"}
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["isBase64Encoded"] is False and seen["body_length"] == len('{"n":1}')
    assert event["requestContext"]["authorizer"]["lambda"]["account"] == "alice"
    assert event["requestContext"]["authorizer"]["lambda"]["type"] == "REQUEST"
    # And its context and environment come from the template
    assert seen["context"]["function_name"] == "retouch-local-echofunction"
    assert seen["context"]["memory_limit_in_mb"] == 512
    assert 0 < seen["context"]["remaining_ms"] <= 7000
    assert seen["environment"]["DUMMY_GREETING"] == "hi from us-east-1"
    assert seen["environment"]["DUMMY_NUMBER"] == "42"
    assert seen["environment"]["DUMMY_TABLE"] == "retouch-local-table"


def test_concurrent_invocations_run_in_separate_environments_and_warm_ones_are_reused(stack, http):
    # Given the echo function's warm environment
    pid = http.get("/public").json()["pid"]
    assert http.get("/public").json()["pid"] == pid != os.getpid()
    # When two slow requests arrive together
    answers: list[dict] = []
    threads = [threading.Thread(target=lambda: answers.append(http.get("/sleep").json())) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then they ran side by side, each in its own environment (their sleeps overlap, whatever the machine's load)
    first, second = answers
    assert first["pid"] != second["pid"]
    assert max(first["started"], second["started"]) < min(first["ended"], second["ended"])
    assert stack._functions.pool("EchoFunction").size == 2


def test_binary_bodies_travel_base64_and_arrive_whole_within_lambdas_payload_limit(http):
    # 3 MiB of binary is 4 MiB of base64 in the event and in the result: under Lambda's 6 MiB both ways
    body = os.urandom(3 * 1024 * 1024)
    response = http.post("/binary", content=body, headers={"Content-Type": "image/png"}, timeout=120)
    assert response.status_code == 200
    assert response.content == body


def test_an_event_over_lambdas_payload_limit_is_refused_before_the_function_runs(http):
    # 5 MiB of binary is 6.7 MiB of base64: Lambda refuses the event, API Gateway answers 413
    response = http.post("/binary", content=os.urandom(5 * 1024 * 1024), headers={"Content-Type": "image/png"})
    assert (response.status_code, response.json()) == (413, {"message": "Request Entity Too Large"})


def test_a_result_over_lambdas_payload_limit_fails_the_invocation(stack, http):
    # A function that answers 7 MiB: Lambda fails the invocation, API Gateway answers 500
    response = http.get("/big")
    assert (response.status_code, response.json()) == (500, {"message": "Internal Server Error"})
    with pytest.raises(FunctionError) as failure:
        stack.invoke("EchoFunction", {"rawPath": "/big"})
    assert failure.value.payload["errorType"] == "Function.ResponseSizeTooLarge"


def test_a_bare_result_is_a_200_json_and_a_raising_function_a_500(http):
    assert (http.get("/bare").status_code, http.get("/bare").json()) == (200, {"bare": True})
    assert http.get("/boom").json() == {"message": "Internal Server Error"}


def test_an_invocation_past_the_function_timeout_is_ended_with_its_environment(stack, http):
    # Given a function with a 1 s Timeout whose handler sleeps 3 s
    pool = stack._functions.pool("ShortFunction")
    first_pid = pool._idle[-1].pid
    # When it is invoked through the API
    started = time.monotonic()
    response = http.get("/slow")
    elapsed = time.monotonic() - started
    # Then the invocation is cut at the Timeout, the caller gets API Gateway's answer to a failed integration,
    # and the environment that timed out is gone (as Lambda does, the next invocation starts a fresh one)
    assert (response.status_code, response.json()) == (500, {"message": "Internal Server Error"})
    assert elapsed < 2.9
    with pytest.raises(FunctionError) as failure:
        stack.invoke("ShortFunction", {"rawPath": "/slow"})
    assert failure.value.payload["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in failure.value.payload["errorMessage"]
    assert all(host.pid != first_pid for host in pool._all)


def test_an_environment_that_died_while_idle_is_never_handed_work(stack, http):
    # Given a warm environment whose process was killed while it was idle
    pid = http.post("/echo/a", headers={"Authorization": "Bearer allow-a"}).json()["pid"]
    os.kill(pid, 9)
    deadline = time.monotonic() + 5
    while any(host.pid == pid and host.running for host in stack._functions.pool("EchoFunction")._all):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    # When the function is invoked again
    response = http.post("/echo/b", headers={"Authorization": "Bearer allow-a"})
    # Then a live environment answers it
    assert response.status_code == 201
    assert response.json()["pid"] != pid


def test_invoke_calls_a_function_directly(stack):
    assert stack.invoke("EchoFunction", {"rawPath": "/bare"}) == {"bare": True}
    with pytest.raises(FunctionError) as failure:
        stack.invoke("EchoFunction", {"rawPath": "/boom"})
    assert failure.value.payload["errorType"] == "RuntimeError"


def test_sqs_messages_reach_the_mapped_function(stack):
    # When a message is sent to the mapped queue
    stack.aws_client("sqs").send_message(QueueUrl=stack.resources.queues["WorkQueue"], MessageBody="record:from-sqs")
    # Then the consumer receives it as a Lambda SQS record (it stores the record in the bucket)
    s3 = stack.aws_client("s3")
    deadline = time.monotonic() + 10
    while True:
        try:
            record = json.loads(s3.get_object(Bucket=stack.resources.buckets["Bucket"], Key="from-sqs")["Body"].read())
            break
        except s3.exceptions.NoSuchKey:
            assert time.monotonic() < deadline, "the consumer never ran"
            time.sleep(0.1)
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == stack.resources.queue_arns["WorkQueue"]
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(record["attributes"])


def test_stopping_the_stack_leaves_no_process_or_port_behind(tmp_path):
    # Given a started stack (beside the module's own)
    before = _child_pids()
    stack = LoopbackStack(template_path=DUMMY_TEMPLATE, seed=False, use_stand_ins=False, quiet=True)
    stack.start()
    children = _child_pids() - before
    assert len(children) >= 4  # moto and three function hosts
    base_url = stack.base_url
    # When it stops
    stack.stop()
    # Then its processes are gone and its port is closed
    assert not (children & _child_pids())
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base_url}/public", timeout=2)


def test_a_busy_port_fails_the_start_at_once(stack):
    port = int(stack.base_url.rsplit(":", 1)[1])
    started = time.monotonic()
    with pytest.raises(OSError):
        LoopbackStack(port=port, template_path=DUMMY_TEMPLATE, seed=False, use_stand_ins=False, quiet=True).start()
    assert time.monotonic() - started < 1


def _child_pids() -> set[int]:
    pids: set[int] = set()
    for children in Path(f"/proc/{os.getpid()}/task").glob("*/children"):
        pids.update(int(pid) for pid in children.read_text().split())
    return pids
