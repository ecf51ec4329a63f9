"""Pay-per-use through the local stack: an operator sets up an account with the admin CLI, a customer spends
its credit with the openai SDK, and the books reconcile."""

from __future__ import annotations

import uuid

import httpx
import openai
import pytest

from tests.e2e.operator import admin

pytestmark = pytest.mark.e2e

LOW_1024_MICROS = 6_000  # gpt-image-2, low quality, 1024x1024 (billing/prices.json): the output alone


def quote(stack, key: str, body: dict) -> dict:
    """POST /v1/images/quote over plain HTTP."""
    response = httpx.post(f"{stack.base_url}/v1/images/quote", json=body, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.local_only
def test_credit_for_two_images_buys_exactly_two_and_the_ledger_reconciles(stack):
    # Given an account created by the operator with credit for exactly two holds of a low-quality 1024x1024 image,
    # as the quote says (the output and the prompt's worst case)
    account = admin(stack, "create-account", "--name", f"e2e-{uuid.uuid4().hex[:6]}", "--credit", "0",
                    "--note", "e2e purchase")
    key = admin(stack, "create-key", account["account_id"])["api_key"]
    request = {"model": "gpt-image-2", "prompt": "paid image 0", "quality": "low", "size": "1024x1024"}
    quoted = quote(stack, key, request)
    assert quoted["hold_micros"] > LOW_1024_MICROS
    admin(stack, "add-credit", account["account_id"], f"{2 * quoted['hold_micros'] / 1_000_000:.6f}",
          "--note", "e2e purchase")
    client = openai.OpenAI(base_url=f"{stack.base_url}/v1", api_key=key, max_retries=0, timeout=90,
                           default_headers={"Prefer": "wait=60"})

    # When the customer generates twice, then a third time
    for index in range(2):
        result = client.images.generate(model="gpt-image-2", prompt=f"paid image {index}", quality="low",
                                        size="1024x1024")
        assert len(result.data) == 1
    with pytest.raises(openai.APIStatusError) as refused:
        client.images.generate(model="gpt-image-2", prompt="one too many", quality="low", size="1024x1024")

    # Then the third is refused for credit, naming the price and the balance
    assert refused.value.status_code == 402
    assert refused.value.body["code"] == "insufficient_credits"
    headers = {"Authorization": f"Bearer {key}"}
    balance = httpx.get(f"{stack.base_url}/v1/account", headers=headers).json()
    # And usage shows two images, each charged no more than its hold and at least its output, the rest given back
    usage = httpx.get(f"{stack.base_url}/v1/usage", headers=headers).json()
    assert (usage["total_jobs"], usage["total_images"]) == (2, 2)
    assert 2 * LOW_1024_MICROS < usage["total_cost_micros"] <= 2 * quoted["hold_micros"]
    assert balance["balance_micros"] == 2 * quoted["hold_micros"] - usage["total_cost_micros"]
    assert balance["in_flight"] == 0
    assert [(b["model"], b["images"]) for b in usage["data"]] == [("gpt-image-2", 2)]
    # And the account's ledger equals its balance (reconcile exits non-zero on any difference)
    admin(stack, "reconcile", "--account", account["account_id"])


def test_submissions_carry_openai_rate_limit_headers(stack, http):
    response = http.post("/v1/images/generations", json={"prompt": "headers", "quality": "low"})
    assert response.status_code == 202
    limit, remaining = (int(response.headers[f"x-ratelimit-{h}-requests"]) for h in ("limit", "remaining"))
    # this request was counted, so at most limit - 1 remain (the header is clamped at 0)
    assert limit >= 1 and 0 <= remaining < limit
    assert response.headers["x-ratelimit-reset-requests"].endswith("s")
