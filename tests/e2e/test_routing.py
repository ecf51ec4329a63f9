"""Routing through the local stack (tests/fixtures/routing/e2e.json routes gpt-image-1.5 to `primary` then
`secondary`, and gpt-image-1-mini to `wobbly` then `steady`, all on the stand-in, whose `[fault:500x1]` fails only
the first call of a prompt): a 503-like failure falls back within the job, charged once; repeated failures open
`wobbly`'s circuit, which skips it until a probe after the cool-down closes it again."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import ROUTING_DOCUMENT
from tests.e2e.operator import admin

# local_only: the routing document and the breaker's item are the local stack's
pytestmark = [pytest.mark.e2e, pytest.mark.local_only]

LOW_1024_MICROS = 9_000  # gpt-image-1.5, low quality, 1024x1024 (billing/prices.json)
COOL_DOWN_SECONDS = 8  # the breaker's cool_down_seconds in the e2e routing document


def generate(http: httpx.Client, model: str, prompt: str) -> dict[str, Any]:
    response = http.post("/v1/images/generations", headers={"Prefer": "wait=25"},
                         json={"model": model, "prompt": prompt, "quality": "low", "size": "1024x1024"})
    assert response.status_code == 200, response.text
    job_id = response.json().get("id") or response.headers.get("x-job-id")
    assert job_id, response.text
    job = http.get(f"/v1/jobs/{job_id}").json()
    assert job["status"] == "succeeded", job
    return job


def tried(job: dict[str, Any]) -> list[tuple[str, str]]:
    return [(attempt["upstream"], attempt["outcome"]) for attempt in job["upstream_attempts"]]


def test_a_failing_first_upstream_falls_back_to_the_second_and_the_job_is_charged_once(stack) -> None:
    assert ROUTING_DOCUMENT.exists()
    # Given a fresh account with credit for exactly one low 1024x1024 gpt-image-1.5 image, as quoted
    account = admin(stack, "create-account", "--name", f"route-{uuid.uuid4().hex[:6]}", "--credit", "0",
                    "--note", "e2e routing")
    key = admin(stack, "create-key", account["account_id"])["api_key"]
    prompt = f"[fault:500x1] fallback {uuid.uuid4().hex}"
    with httpx.Client(base_url=stack.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as http:
        hold = http.post("/v1/images/quote", json={"model": "gpt-image-1.5", "prompt": prompt, "quality": "low",
                                                    "size": "1024x1024"}).json()["hold_micros"]
        admin(stack, "add-credit", account["account_id"], f"{hold / 1_000_000:.6f}", "--note", "e2e routing")
        # When its job's first upstream answers HTTP 500 (the stand-in fails the prompt's first call)
        job = generate(http, "gpt-image-1.5", prompt)
        # Then the second upstream served it in the same run, and the job shows both attempts
        assert job["upstream"] == "secondary"
        assert tried(job) == [("primary", "unavailable"), ("secondary", "succeeded")]
        assert job["upstream_attempts"][0]["code"] == "provider_error"
        # And it was charged once: its image and prompt, the rest of the hold given back, and the ledger reconciles
        charged = round(job["usage"]["cost_usd"] * 1_000_000)
        assert job["usage"]["pricing"]["outputs_usd"] == pytest.approx(LOW_1024_MICROS / 1_000_000)
        assert http.get("/v1/account").json()["balance_micros"] == hold - charged
    admin(stack, "reconcile", "--account", account["account_id"])


def test_the_circuit_opens_after_repeated_failures_and_closes_after_a_probe(stack, http, aws) -> None:
    run = uuid.uuid4().hex
    # Given three jobs of two accounts whose first upstream (`wobbly`) fails: each is served by `steady` (one
    # account's failures alone never open it: routing/breaker.py)
    other = admin(stack, "create-account", "--name", f"route-{run[:6]}", "--credit", "1", "--note", "e2e breaker")
    other_key = admin(stack, "create-key", other["account_id"])["api_key"]
    with httpx.Client(base_url=stack.base_url, headers={"Authorization": f"Bearer {other_key}"},
                      timeout=60) as other_http:
        for index, client in enumerate((http, other_http, http)):
            job = generate(client, "gpt-image-1-mini", f"[fault:500x1] breaker {index} {run}")
            assert tried(job) == [("wobbly", "unavailable"), ("steady", "succeeded")]
    # When the next job runs (within the cool-down), `wobbly` is skipped without a call
    skipped = generate(http, "gpt-image-1-mini", f"breaker open {run}")
    assert tried(skipped) == [("wobbly", "skipped"), ("steady", "succeeded")]
    assert skipped["upstream_attempts"][0]["code"] == "circuit_open"
    breaker = aws("dynamodb").get_item(TableName=stack.resources.tables["Table"],
                                       Key={"pk": {"S": "UPSTREAM#wobbly"}, "sk": {"S": "BREAKER"}})["Item"]
    assert breaker["breaker_state"]["S"] == "open"
    # Then once the cool-down is over a job probes `wobbly`, which answers, and the circuit closes for later jobs
    time.sleep(COOL_DOWN_SECONDS)
    for index in range(2):
        job = generate(http, "gpt-image-1-mini", f"breaker closed {index} {run}")
        assert tried(job) == [("wobbly", "succeeded")]
    breaker = aws("dynamodb").get_item(TableName=stack.resources.tables["Table"],
                                       Key={"pk": {"S": "UPSTREAM#wobbly"}, "sk": {"S": "BREAKER"}})["Item"]
    assert breaker["breaker_state"]["S"] == "closed"
