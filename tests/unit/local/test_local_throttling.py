"""The local runtime throttles as AWS does (issue #24): API Gateway's route throttle (a token bucket of the template's
rate and burst, 429 {"message":"Too Many Requests"} past it, before the authorizer), and Lambda's reserved concurrency
refusing synchronous invocations past it (a Function URL answers 429; API Gateway, as any failed integration, 500)
instead of queueing them."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from local import REPO_ROOT
from local.api_gateway.gateway import FUNCTION_URL_LIMITS, Gateway
from local.api_gateway.routes import FunctionUrlRoutes, RouteTable
from local.api_gateway.throttle import RouteThrottle, TokenBucket
from local.cloudformation.intrinsics import Resolver, parameter_values
from local.cloudformation.template import Template
from local.lambdas.function_pool import FunctionPool
from local.lambdas.invocation import Invocation, StreamedInvocation, Throttled
from local.stack import route_throttle
from tests.unit.local.test_local_function_pool import FakeHost, run_in_threads, wait_for
from tests.unit.local.test_local_gateway import ROUTES, Clock, FakeFunctions, body, req


def test_the_bucket_holds_the_burst_and_refills_at_the_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(RouteThrottle(rate_per_second=2, burst=3), clock=clock)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    clock.now += 0.5  # one token back at 2 per second
    assert [bucket.take(), bucket.take()] == [True, False]


def test_past_the_route_throttle_the_http_api_answers_429_without_authorizing_or_invoking() -> None:
    # Given an HTTP API whose route throttle is a burst of 2 and (almost) no refill
    functions, clock = FakeFunctions(), Clock()
    bucket = TokenBucket(RouteThrottle(rate_per_second=0.001, burst=2), clock=clock)
    gateway = Gateway(RouteTable(ROUTES), {}, functions.invoke, throttle=bucket)
    # When three requests come at once
    answers = [gateway.handle(req("GET", "/health", key=None)) for _ in range(3)]
    # Then the third is API Gateway's 429, and only two reached the function
    assert [a.status for a in answers] == [200, 200, 429]
    assert body(answers[2]) == {"message": "Too Many Requests"}
    assert functions.count("ApiFn") == 2


def test_the_stack_reads_the_route_throttle_from_the_templates_http_api() -> None:
    # Given template.yaml with its throttle parameters set to a burst of 3
    template = Template.load(REPO_ROOT / "template.yaml")
    parameters = parameter_values(template, {"ApiThrottleRateLimit": "7", "ApiThrottleBurstLimit": "3"})
    # Then the local HTTP API's bucket holds 3
    bucket = route_throttle(template, Resolver(template, parameters, {}))
    assert bucket is not None and [bucket.take() for _ in range(4)] == [True, True, True, False]


def pool_reserving(reserved: int) -> tuple[FunctionPool, list[FakeHost], threading.Event]:
    gate, hosts = threading.Event(), []

    def new_host(prefix: str) -> FakeHost:
        host = FakeHost(prefix, gate)
        hosts.append(host)
        return host

    pool = FunctionPool("sync", new_host, max_environments=8, reserved_concurrency=reserved)
    pool.start()
    pool.wait_ready(1)
    return pool, hosts, gate


def test_past_its_reserved_concurrency_a_synchronous_invocation_is_refused_not_queued() -> None:
    # Given a function reserving 2, with two invocations running
    pool, hosts, gate = pool_reserving(2)
    threads, results = run_in_threads(pool, 2)
    wait_for(lambda: sum(h.active for h in hosts) == 2)
    # When a third comes, it is refused at once (Lambda's TooManyRequestsException)
    with pytest.raises(Throttled):
        pool.invoke({})
    # And once one ends, the next runs
    gate.set()
    for thread in threads:
        thread.join()
    assert pool.invoke({}).payload["host"].startswith("sync") and len(results) == 2


class ThrottledFunctions(FakeFunctions):
    def invoke(self, function_id: str, event: dict[str, Any]) -> Invocation:
        raise Throttled(f"{function_id}: at its reserved concurrency")


def test_a_throttled_function_is_429_through_its_function_url_and_500_through_the_http_api() -> None:
    functions = ThrottledFunctions()
    url = Gateway(FunctionUrlRoutes("SyncFn"), {}, functions.invoke, limits=FUNCTION_URL_LIMITS)
    api = Gateway(RouteTable(ROUTES), {}, functions.invoke)
    through_url = url.handle(req("POST", "/v1/images/edits"))
    through_api = api.handle(req("GET", "/health", key=None))
    assert (through_url.status, body(through_url)) == (429, {"message": "Too Many Requests"})
    assert (through_api.status, body(through_api)) == (500, {"message": "Internal Server Error"})


class StreamingHost(FakeHost):
    def invoke_streaming(self, event: Any) -> StreamedInvocation:
        return StreamedInvocation(iter([b"prelude", b"chunk"]))


def test_a_streamed_invocation_holds_its_reserved_slot_until_its_stream_ends() -> None:
    # Given a streaming function (the sync entry's Function URL) reserving 1, with one stream not yet read to its end
    pool = FunctionPool("sync", lambda prefix: StreamingHost(prefix, threading.Event()), max_environments=4,
                        reserved_concurrency=1)
    pool.start()
    pool.wait_ready(1)
    first = pool.invoke_streaming({})
    assert isinstance(first, StreamedInvocation)
    # When another comes while it streams, it is refused (Lambda counts a streaming invocation until its response ends)
    with pytest.raises(Throttled):
        pool.invoke_streaming({})
    # And once the first stream is read to its end, the next one runs
    assert list(first.chunks) == [b"prelude", b"chunk"]
    assert isinstance(pool.invoke_streaming({}), StreamedInvocation)


def test_a_throttled_streaming_function_url_answers_429() -> None:
    def refuse(function_id: str, event: dict[str, Any]) -> StreamedInvocation:
        raise Throttled(f"{function_id}: at its reserved concurrency")

    url = Gateway(FunctionUrlRoutes("SyncFn"), {}, FakeFunctions().invoke, limits=FUNCTION_URL_LIMITS,
                  invoke_streaming=refuse)
    answer = url.handle(req("POST", "/v1/images/edits"))
    assert (answer.status, body(answer)) == (429, {"message": "Too Many Requests"})
