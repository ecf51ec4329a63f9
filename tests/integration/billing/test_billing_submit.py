"""Submitting through the api function: the hold is taken with the job, or nothing is written at all."""

from __future__ import annotations

import json

from retouch.billing.money import format_usd
from retouch.billing.prices import price_table
from retouch.billing.pricing_rule import PricedRequest, hold_micros
from retouch.data.ledger import LedgerRepository
from tests.builders import file_part, generation_payload, json_event, load_event, multipart_event, png
from tests.integration.billing.conftest import seed
from tests.integration.billing.pricing import DEFAULT_PROMPT, LOW_1024, low_1024_hold
from tests.integration.core.aws_stack import Stack, client, json_body

API = "ApiFunction"


def low(**overrides: object) -> dict:
    return generation_payload(quality="low", size="1024x1024", **overrides)


def ledger(stack: Stack) -> LedgerRepository:
    return LedgerRepository(stack.table, client("dynamodb"))


def assert_nothing_left(stack: Stack, account_id: str) -> None:
    assert stack.jobs_of(account_id) == []
    assert stack.keys_under(f"inputs/{account_id}/") == []
    assert stack.message_counts(stack.jobs_queue) == (0, 0)


def test_an_accepted_submit_holds_its_price_in_the_same_write_as_the_job(fresh: Stack) -> None:
    # Given an account with $1 of credit
    account_id = seed(fresh, credit_micros=1_000_000)

    # When it submits n=2 low 1024x1024 images
    response = fresh.invoke(API, json_event("generation.json", low(n=2), account_id=account_id))

    # Then the job is queued, 2 x $0.006 and the prompt's worst case are held, in-flight is 1 and the ledger has the
    # reserve entry
    assert response["statusCode"] == 202, response["body"]
    job = json_body(response)
    held = low_1024_hold(n=2)
    assert held == 2 * LOW_1024 + 5 * len(DEFAULT_PROMPT)  # one token a byte, $5 per million tokens
    assert job["usage"]["cost_usd"] == 0 and job["usage"]["images"] == 0
    assert job["usage"]["reserved_usd"] == held / 1_000_000
    account, entries = ledger(fresh).account_with_ledger(account_id)
    assert (account.balance_micros, account.in_flight) == (1_000_000 - held, 1)
    reserve = entries[-1]
    assert (reserve.kind, reserve.job_id, reserve.amount_micros, reserve.balance_after_micros) == (
        "reserve", job["id"], -held, 1_000_000 - held)
    assert fresh.job_item(job["id"])["reserved_micros"] == held


def test_not_enough_credit_is_402_with_price_and_balance_and_leaves_nothing(fresh: Stack) -> None:
    # Given an account with $0.10 and an edit with an uploaded image priced at high quality, auto size
    account_id = seed(fresh, credit_micros=100_000)
    event = multipart_event([file_part("image[]", png()), ("prompt", "dusk"), ("quality", "high")],
                            account_id=account_id)

    # When it is submitted
    response = fresh.invoke(API, event)

    # Then 402 insufficient_credits names the price ($0.211 x 1.5 for auto = 1536x1024, plus the prompt and the
    # 96x64 input's tokens) and the balance, and there is no job, no input object, no message, and no ledger movement
    assert response["statusCode"] == 402, response["body"]
    error = json_body(response)["error"]
    assert error["code"] == "insufficient_credits"
    price = hold_micros(price_table(), PricedRequest(model="gpt-image-2", quality="high", size="auto", n=1,
                                                     prompt="dusk", inputs=((96, 64),)))
    assert price > 316_500
    assert format_usd(price) in error["message"] and "$0.100000" in error["message"]
    assert_nothing_left(fresh, account_id)
    account, entries = ledger(fresh).account_with_ledger(account_id)
    assert (account.balance_micros, account.in_flight, len(entries)) == (100_000, 0, 1)


def test_at_the_in_flight_limit_a_submit_is_429_concurrency_with_retry_after(fresh: Stack) -> None:
    # Given an account allowed one job in flight, which has one queued
    account_id = seed(fresh, credit_micros=1_000_000, max_in_flight=1)
    first = fresh.invoke(API, json_event("generation.json", low(), account_id=account_id))
    assert first["statusCode"] == 202
    fresh.purge_queues()

    # When it submits another
    response = fresh.invoke(API, json_event("generation.json", low(), account_id=account_id))

    # Then 429 concurrency_limit_exceeded with Retry-After, and only the first job exists
    assert response["statusCode"] == 429, response["body"]
    assert json_body(response)["error"]["code"] == "concurrency_limit_exceeded"
    assert int(response["headers"]["Retry-After"]) > 0
    assert len(fresh.jobs_of(account_id)) == 1
    assert ledger(fresh).get_account(account_id).balance_micros == 1_000_000 - low_1024_hold()


def test_over_the_requests_per_minute_limit_is_429_with_openai_rate_headers(fresh: Stack) -> None:
    # Given an account allowed 2 requests per minute
    account_id = seed(fresh, credit_micros=1_000_000, rpm=2)

    # When it sends three submissions (the second invalid: invalid requests count too)
    first = fresh.invoke(API, json_event("generation.json", low(), account_id=account_id))
    second = fresh.invoke(API, json_event("generation.json", low(n=99), account_id=account_id))
    third = fresh.invoke(API, json_event("generation.json", low(), account_id=account_id))

    # Then the first two carry the x-ratelimit-* headers counting down, and the third is 429 with Retry-After
    assert first["statusCode"] == 202 and second["statusCode"] == 400
    assert first["headers"]["x-ratelimit-limit-requests"] == "2"
    assert first["headers"]["x-ratelimit-remaining-requests"] == "1"
    assert second["headers"]["x-ratelimit-remaining-requests"] == "0"
    assert first["headers"]["x-ratelimit-reset-requests"].endswith("s")
    assert third["statusCode"] == 429, third["body"]
    assert json_body(third)["error"]["code"] == "rate_limit_exceeded"
    assert 1 <= int(third["headers"]["Retry-After"]) <= 60
    assert third["headers"]["x-ratelimit-remaining-requests"] == "0"
    assert len(fresh.jobs_of(account_id)) == 1


def test_a_suspended_account_cannot_submit_even_inside_the_authorizer_cache(fresh: Stack) -> None:
    # Given an account suspended after its key was authorized (the authorizer's answer is still cached)
    account_id = seed(fresh, credit_micros=1_000_000)
    ledger(fresh).set_fields(account_id, {"status": "suspended"})

    # When a submission arrives with the cached authorization
    response = fresh.invoke(API, json_event("generation.json", low(), account_id=account_id))

    # Then it is refused 401 and nothing is held
    assert response["statusCode"] == 401
    assert_nothing_left(fresh, account_id)


def test_models_list_shows_each_models_prices(fresh: Stack) -> None:
    # Given any account
    account_id = seed(fresh, credit_micros=0)

    # When it lists models
    event = load_event("list_models.json")
    event["requestContext"]["authorizer"]["lambda"]["account_id"] = account_id
    response = fresh.invoke(API, event)

    # Then gpt-image-2 shows the published 1024x1024 prices and the price file's version
    assert response["statusCode"] == 200
    [model] = [m for m in json_body(response)["data"] if m["id"] == "gpt-image-2"]
    assert model["pricing"]["per_image_usd"] == {"low": 0.006, "medium": 0.053, "high": 0.211}
    assert model["pricing"]["version"]
    assert json.dumps(model["pricing"])  # plain JSON
