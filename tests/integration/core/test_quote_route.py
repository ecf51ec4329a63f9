"""POST /v1/images/quote through the api function on moto: the hold and expected charge, and no job created."""

from __future__ import annotations

from typing import Any

import pytest

from retouch.billing.money import to_usd
from retouch.data.ledger import LedgerRepository
from tests.builders import data_url, edit_payload, http_event, json_event, png
from tests.integration.core.aws_stack import Stack, client, json_body
from tests.quote_refusals import REFUSED_AS_SUBMITTED

API = "ApiFunction"


def balance_of(stack: Stack, account_id: str) -> int:
    account = LedgerRepository(stack.table, client("dynamodb")).get_account(account_id)
    assert account is not None
    return account.balance_micros


def test_the_sample_quote_answers_its_hold_and_creates_nothing(stack: Stack, account_id: str) -> None:
    # Given the recorded quote (a declared 1024x1024 image and a URL)
    event = http_event("create_quote.json", account_id=account_id)
    balance = balance_of(stack, account_id)

    # When the api function handles it
    response = stack.invoke(API, event)

    # Then it answers the hold and the expected charge, with no job, message or hold left behind
    assert response["statusCode"] == 200, response["body"]
    body = json_body(response)
    assert body["object"] == "image.quote" and body["operation"] == "edit" and body["input_images"] == 2
    assert 0 < body["expected_micros"] <= body["hold_micros"] and body["hold_usd"] == to_usd(body["hold_micros"])
    assert stack.jobs_of(account_id) == []
    assert stack.message_counts(stack.jobs_queue) == (0, 0)
    assert balance_of(stack, account_id) == balance


def test_an_edit_holds_what_its_quote_said(stack: Stack, account_id: str) -> None:
    # Given an edit body (a 96x64 data: image and a long prompt), quoted with the image declared by its size
    prompt = "keep the label legible and match the light " * 200
    edit = edit_payload(prompt=prompt, quality="low", size="1024x1024",
                        images=[{"image_url": data_url(png(96, 64))}])
    quoted = stack.invoke(API, json_event("create_quote.json", {**edit, "images": [{"width": 96, "height": 64}]},
                                          account_id=account_id))
    assert quoted["statusCode"] == 200, quoted["body"]

    # When the edit itself is submitted
    submitted = stack.invoke(API, json_event("edit_json.json", edit, account_id=account_id))

    # Then its job holds exactly the quote's hold, far above the output price alone
    assert submitted["statusCode"] == 202, submitted["body"]
    hold = json_body(quoted)["hold_micros"]
    assert stack.job_item(json_body(submitted)["id"])["reserved_micros"] == hold
    assert json_body(submitted)["usage"]["reserved_usd"] == to_usd(hold) and hold > 6_000 + len(prompt)


def test_a_quote_is_validated_as_an_edit_would_be(stack: Stack, account_id: str) -> None:
    # Given a body with a size the model does not make
    event = json_event("create_quote.json", {"prompt": "x", "size": "1008x640"}, account_id=account_id)

    # When it is quoted, then 400 invalid_size, as the generation would answer
    response = stack.invoke(API, event)
    assert response["statusCode"] == 400 and json_body(response)["error"]["code"] == "invalid_size"


def error_of(response: dict[str, Any]) -> tuple[str, str | None, str | None]:
    error = json_body(response)["error"]
    return error["type"], error["code"], error["param"]


@pytest.mark.parametrize(("route", "fields"), REFUSED_AS_SUBMITTED)
def test_a_quote_is_refused_as_its_submit_is(stack: Stack, account_id: str, route: str,
                                             fields: dict[str, Any]) -> None:
    # Given a body the edit or the generation refuses
    body = {"model": "gpt-image-2", "prompt": "make it dusk", **fields}
    submitted = stack.invoke(API, json_event(route, body, account_id=account_id))
    assert submitted["statusCode"] == 400, submitted["body"]

    # When the same body is quoted
    quoted = stack.invoke(API, json_event("create_quote.json", body, account_id=account_id))

    # Then the quote answers the same 400: the same code, param and type
    assert quoted["statusCode"] == 400, quoted["body"]
    assert error_of(quoted) == error_of(submitted)
    assert stack.jobs_of(account_id) == []
