"""The api, sync and status functions in one process, each with its own settings: every function reads its settings
at import and hands them to its wiring (retouch/wiring/), and its routes read what its app was given, never global
settings nor the app that included a router last."""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

from retouch.admin.accounts import issue_key
from retouch.data.accounts import AccountRepository
from tests.builders import get_job_event, http_event, load_event
from tests.integration.core.aws_stack import Stack, client, json_body

API, SYNC, STATUS = "ApiFunction", "SyncFunction", "StatusFunction"


def _module(stack: Stack, function_id: str) -> ModuleType:
    return sys.modules[stack.handler(function_id).__module__]


def _generation(account_id: str) -> dict[str, Any]:
    """The recorded generation as the HTTP API passes it, without its `Prefer` header: each function's default."""
    event = http_event("generation.json", account_id=account_id)
    event["headers"].pop("prefer")
    return event


def _on_the_url(event: dict[str, Any], authorization: str) -> dict[str, Any]:
    """The same request as the sync function's Function URL passes it: the key, no authorizer's context."""
    event["headers"]["authorization"] = authorization
    event["routeKey"] = event["requestContext"]["routeKey"] = "$default"
    del event["requestContext"]["authorizer"]
    return event


def _openapi_request() -> dict[str, Any]:
    event = load_event("health.json")
    event.update(routeKey="GET /openapi.json", rawPath="/openapi.json")
    event["requestContext"].update(routeKey="GET /openapi.json")
    event["requestContext"]["http"].update(method="GET", path="/openapi.json")
    return event


def test_api_sync_and_status_serve_side_by_side_each_with_its_own_settings(stack: Stack, account_id: str) -> None:
    # Given the three functions loaded in this process, each from its own environment in template.yaml: the sync
    # function holds every submission by default, up to SyncMaxWaitSeconds; the api function only when asked
    api, sync = _module(stack, API), _module(stack, SYNC)
    assert (api.settings.wait_by_default, sync.settings.wait_by_default) == (False, True)
    assert (api.settings.max_wait_seconds, sync.settings.max_wait_seconds) == (25, 300)
    authorization = f"Bearer {issue_key(AccountRepository(stack.table, client('dynamodb')), account_id).raw_key}"
    # and the API document served once (its app includes every function's routers, after theirs)
    assert stack.invoke(API, _openapi_request())["statusCode"] == 200

    # When the same generation goes to the sync URL, then the api, then the sync URL again (4 s left each: no worker
    # runs here, so a held job is still queued when the hold ends)
    answers = [stack.invoke(SYNC, _on_the_url(_generation(account_id), authorization), remaining_millis=4_000),
               stack.invoke(API, _generation(account_id), remaining_millis=4_000),
               stack.invoke(SYNC, _on_the_url(_generation(account_id), authorization), remaining_millis=4_000)]

    # Then each sync request was held (its function's default, capped by the time left) and the api's was not
    assert [answer["statusCode"] for answer in answers] == [202, 202, 202], [a["body"] for a in answers]
    held = [answer["headers"].get("Preference-Applied") for answer in answers]
    assert held[1] is None
    assert all(0 < float(applied.removeprefix("wait=")) <= 1 for applied in (held[0], held[2])), held
    # and the status function, from its own settings, reads each job the others created
    job_ids = [json_body(answer)["id"] for answer in answers]
    for job_id in job_ids:
        response = stack.invoke(STATUS, get_job_event(job_id, account_id=account_id))
        assert (response["statusCode"], json_body(response)["id"]) == (200, job_id)
    assert sorted(job_ids) == sorted(item["job_id"]["S"] for item in stack.jobs_of(account_id))
