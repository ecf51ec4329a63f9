"""A device token may submit, but not set what only the account's backend may: where the account's signed job events
go (`webhook_url`), which are sent (`webhook_events`, `[]` mutes the default webhook) and `metadata` the backend may
trust. Each is a 403 `client_token_forbidden` naming it, before anything is written, on both submit routes (JSON and
multipart) through API Gateway and the synchronous entry."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.builders import (
    authorizer_event,
    edit_payload,
    file_part,
    generation_payload,
    json_event,
    multipart_event,
    png,
)
from tests.integration.core.aws_stack import Stack, json_body
from tests.integration.core.device_tokens import device_token_header

API, SYNC = "ApiFunction", "SyncFunction"
SCOPES = ["images:edit", "images:generate", "jobs:read"]
FIELDS: dict[str, Any] = {"webhook_url": "http://127.0.0.1:3950/attacker", "webhook_events": [],
                          "metadata": {"paid": "true"}}


def _json_submit(route: str, account_id: str, field: str) -> dict[str, Any]:
    if route == "generations":
        return json_event("generation.json", generation_payload(**{field: FIELDS[field]}), account_id=account_id)
    return json_event("edit_json.json", edit_payload(**{field: FIELDS[field]}), account_id=account_id)


def _multipart_edit(account_id: str, field: str) -> dict[str, Any]:
    value = FIELDS[field]
    text = value if isinstance(value, str) else json.dumps(value)
    return multipart_event([("prompt", "make it dusk"), file_part("image[]", png()), (field, text)],
                           account_id=account_id)


def _as_device(stack: Stack, function_id: str, event: dict[str, Any], authorization: str) -> dict[str, Any]:
    """The request as `function_id` receives it from the phone: through API Gateway with the authorizer's context of
    the token, or on the sync function's URL with the token alone."""
    event["headers"]["authorization"] = authorization
    event["headers"]["prefer"] = "respond-async"
    if function_id == SYNC:
        event["routeKey"] = event["requestContext"]["routeKey"] = "$default"
        del event["requestContext"]["authorizer"]
    else:
        decision = stack.invoke("AuthorizerFunction", authorizer_event(authorization))
        event["requestContext"]["authorizer"]["lambda"] = decision["context"]
    return event


@pytest.mark.parametrize("function_id", [API, SYNC])
@pytest.mark.parametrize("field", sorted(FIELDS))
@pytest.mark.parametrize("form", ["generations-json", "edits-json", "edits-multipart"])
def test_a_device_token_cannot_set_the_webhook_or_metadata(function_id: str, field: str, form: str,
                                                           stack: Stack, account_id: str) -> None:
    # Given a device token with the submit scopes, and a submit of it that sets an account-only field
    authorization = device_token_header(stack, account_id, SCOPES)
    event = (_multipart_edit(account_id, field) if form == "edits-multipart"
             else _json_submit(form.split("-")[0], account_id, field))

    # When the phone sends it
    response = stack.invoke(function_id, _as_device(stack, function_id, event, authorization), remaining_millis=4_000)

    # Then it is refused 403 naming the field, and no job was created
    assert response["statusCode"] == 403, response["body"]
    error = json_body(response)["error"]
    assert (error["type"], error["code"], error["param"]) == ("permission_error", "client_token_forbidden", field)
    assert stack.jobs_of(account_id) == []


@pytest.mark.parametrize("function_id", [API, SYNC])
def test_a_device_token_submits_without_them(function_id: str, stack: Stack, account_id: str) -> None:
    # Given a device token and a generation that sets none of them
    authorization = device_token_header(stack, account_id, SCOPES)
    event = json_event("generation.json", generation_payload(), account_id=account_id)

    # When the phone sends it
    response = stack.invoke(function_id, _as_device(stack, function_id, event, authorization), remaining_millis=4_000)

    # Then it is accepted for the token's end user
    assert response["statusCode"] == 202, response["body"]
    assert json_body(response)["user"] == "u_phone"
