"""The per-account limit on every authenticated request that creates nothing (web/read_limit.py), over a fake
counter: reads have their own budget, submissions are counted only by their own (web/admission.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.typing import LambdaContext

from retouch.billing.rate_limit import admit_read
from retouch.errors import RateLimited
from retouch.web.app import create_app
from retouch.web.read_limit import ReadLimit
from retouch.web.route_groups import RouteGroup
from tests.builders import http_event, new_account_id
from tests.fakes import FakeReadCounter


def _app(counter: FakeReadCounter, per_minute: int) -> APIGatewayHttpResolver:
    router = Router()

    @router.get("/v1/jobs")
    def read() -> dict:
        return {"ok": True}

    @router.post("/v1/images/generations")
    def submit() -> dict:
        return {"ok": True}

    @router.get("/health")
    def health() -> dict:
        return {"ok": True}

    return create_app([RouteGroup(router)], [], read_limit=ReadLimit(counter, per_minute))


def _call(app: APIGatewayHttpResolver, method: str, path: str, account_id: str | None) -> dict[str, Any]:
    event = http_event("list_models.json", account_id=account_id)
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    event["routeKey"] = event["requestContext"]["routeKey"] = f"{method} {path}"
    return app.resolve(event, LambdaContext())


def test_reads_past_the_accounts_per_minute_read_limit_are_429_with_openai_headers() -> None:
    # Given an app whose read limit is 2 per account and minute
    counter, account_id = FakeReadCounter(), new_account_id()
    app = _app(counter, 2)

    # When the account reads three times
    answers = [_call(app, "GET", "/v1/jobs", account_id) for _ in range(3)]

    # Then two are answered with OpenAI's rate-limit headers, the third is 429 rate_limit_exceeded with Retry-After
    assert [a["statusCode"] for a in answers] == [200, 200, 429]
    headers = {k.lower(): v for k, v in answers[1]["headers"].items()}
    assert (headers["x-ratelimit-limit-requests"], headers["x-ratelimit-remaining-requests"]) == ("2", "0")
    refused = {k.lower(): v for k, v in answers[2]["headers"].items()}
    assert 1 <= int(refused["retry-after"]) <= 60 and refused["x-ratelimit-remaining-requests"] == "0"
    assert json.loads(answers[2]["body"])["error"]["code"] == "rate_limit_exceeded"


def test_submissions_and_public_routes_do_not_use_the_read_budget() -> None:
    # Given an app whose read limit is 1, and an account that has spent it
    counter, account_id = FakeReadCounter(), new_account_id()
    app = _app(counter, 1)
    assert _call(app, "GET", "/v1/jobs", account_id)["statusCode"] == 200

    # When it submits, and anyone calls a public route
    submitted = _call(app, "POST", "/v1/images/generations", account_id)
    health = _call(app, "GET", "/health", None)

    # Then neither is counted here (a submission counts against requests_per_minute, in its route)
    assert (submitted["statusCode"], health["statusCode"]) == (200, 200)
    assert sum(counter.counts.values()) == 1


def test_each_account_has_its_own_read_budget() -> None:
    counter = FakeReadCounter()
    app = _app(counter, 1)
    assert _call(app, "GET", "/v1/jobs", new_account_id())["statusCode"] == 200
    assert _call(app, "GET", "/v1/jobs", new_account_id())["statusCode"] == 200


def test_the_read_window_resets_each_minute() -> None:
    # Given an account that spent its one read of a minute, 50 s into it
    counter, account_id = FakeReadCounter(), new_account_id()
    admit_read(counter, account_id, 1, now=6000 + 50)

    # When it reads again in that minute, then in the next
    with pytest.raises(RateLimited) as refused:
        admit_read(counter, account_id, 1, now=6000 + 55)
    later = admit_read(counter, account_id, 1, now=6000 + 60)

    # Then the first is refused until the minute ends, and the next minute admits it again
    assert refused.value.headers["Retry-After"] == "5"
    assert later.remaining == 0 and later.limit == 1
