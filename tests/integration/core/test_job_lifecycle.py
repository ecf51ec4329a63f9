"""Submit -> queue -> worker -> status through the real handlers, moto, and the local fake provider on loopback.

Prompts carry the fake provider's fault directives (`[fault:500x1]`, `[fault:safety]`, ...) and a unique
suffix, so each test's calls are counted apart.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from tests.builders import (
    file_part,
    generation_payload,
    get_job_event,
    image_size,
    json_event,
    mask_png,
    multipart_event,
    new_account_id,
    new_job_id,
    png,
    sqs_event,
)
from tests.integration.core.aws_stack import Stack, json_body


def unique(prompt: str) -> str:
    return f"{prompt} #{uuid.uuid4().hex[:8]}"


def submit_generation(stack: Stack, account_id: str, **overrides: Any) -> str:
    event = json_event("generation.json", generation_payload(**overrides), account_id=account_id)
    event["headers"].pop("prefer", None)
    response = stack.invoke("ApiFunction", event)
    assert response["statusCode"] == 202, response["body"]
    return json_body(response)["id"]


def get_job(stack: Stack, job_id: str, account_id: str | None) -> dict[str, Any]:
    return stack.invoke("StatusFunction", get_job_event(job_id, account_id=account_id))


def failures(response: dict[str, Any]) -> list[str]:
    return [f["itemIdentifier"] for f in response.get("batchItemFailures", [])]


# -- Success ----------------------------------------------------------------------------------------------


def test_generation_runs_and_its_owner_gets_presigned_urls(stack: Stack, account_id: str) -> None:
    # Given a queued generation of two 1024x640 PNGs
    prompt = unique("a lighthouse")
    job_id = submit_generation(stack, account_id, prompt=prompt, size="1024x640", n=2)

    # When the worker receives its message
    _, response = stack.run_worker_once()

    # Then the batch succeeds, the provider was called once, and the outputs are in S3 where they belong
    assert failures(response) == []
    assert len(stack.provider.calls_for(prompt)) == 1
    keys = [output["key"] for output in stack.job_item(job_id)["outputs"]]
    assert [key.rpartition("-")[2] for key in keys] == ["0.png", "1.png"]
    assert stack.keys_under(f"outputs/{job_id}/") == sorted(keys)
    for key in keys:
        data, content_type = stack.object(key)
        assert content_type == "image/png" and image_size(data) == ("PNG", (1024, 640))

    # And when its owner asks for the job
    status = get_job(stack, job_id, account_id)

    # Then it is succeeded with presigned URLs to those objects
    assert status["statusCode"] == 200
    view = json_body(status)
    assert view["status"] == "succeeded" and view["size"] == "1024x640"
    assert [(d["width"], d["height"], d["content_type"]) for d in view["data"]] == [(1024, 640, "image/png")] * 2
    for image, key in zip(view["data"], keys, strict=True):
        url = urlparse(image["url"])
        query = parse_qs(url.query)
        assert url.path.endswith(key) and stack.bucket in image["url"]
        assert account_id not in image["url"]  # the key is opaque: a shared URL does not reveal the account
        assert query["X-Amz-Expires"] == ["3600"] and "X-Amz-Signature" in query
        assert image.get("b64_json") is None


def test_b64_json_job_read_later_answers_a_url_to_the_stored_bytes(stack: Stack, account_id: str) -> None:
    # Given a generation that asked for b64_json, submitted without waiting and run by the worker
    job_id = submit_generation(stack, account_id, prompt=unique("b64"), size="1024x640", response_format="b64_json",
                               output_format="webp")
    stack.run_worker_once()

    # When its owner polls it (base64 comes only in an answer that saw the job end)
    view = json_body(get_job(stack, job_id, account_id))

    # Then the image is a presigned URL to the stored object, no base64, and the view says so
    [image] = view["data"]
    [output] = stack.job_item(job_id)["outputs"]
    _, content_type = stack.object(output["key"])
    assert content_type == "image/webp" and image.get("b64_json") is None and output["key"] in image["url"]
    assert view["response_format_served"] == "url"


def test_multipart_edit_reaches_the_provider_with_all_images_and_the_mask(stack: Stack, account_id: str) -> None:
    # Given a multipart edit with two images and a mask
    prompt = unique("add a moon")
    event = multipart_event([("prompt", prompt), ("size", "1024x1024"), file_part("image[]", png(96, 64)),
                             file_part("image[]", png(96, 64), "second.png"), file_part("mask", mask_png(96, 64))],
                            account_id=account_id)
    job_id = json_body(stack.invoke("ApiFunction", event))["id"]

    # When the worker runs it
    _, response = stack.run_worker_once()

    # Then the provider saw both images as image[] and the mask, and the job succeeded
    [call] = stack.provider.calls_for(prompt)
    assert call.endpoint == "edits" and call.image_count == 2 and call.has_mask
    assert call.image_field_names == ("image[]", "image[]")
    assert failures(response) == []
    assert stack.job_item(job_id)["status"] == "succeeded"
    assert stack.keys_under(f"outputs/{job_id}/") == [stack.job_item(job_id)["outputs"][0]["key"]]


def test_duplicate_delivery_calls_the_provider_once(stack: Stack, account_id: str) -> None:
    # Given a job the worker already finished from its message
    prompt = unique("once")
    job_id = submit_generation(stack, account_id, prompt=prompt, size="1024x640")
    message, _ = stack.run_worker_once()
    finished = stack.job_item(job_id)

    # When the same message is delivered again (SQS is at-least-once)
    response = stack.invoke("WorkerFunction", stack.worker_event(message))

    # Then nothing happens: no failure reported, no second provider call, the job unchanged
    assert failures(response) == []
    assert len(stack.provider.calls_for(prompt)) == 1
    assert stack.job_item(job_id) == finished


# -- Provider failures -------------------------------------------------------------------------------------


def test_provider_refusal_fails_the_job_without_retry(stack: Stack, account_id: str) -> None:
    # Given a job the provider's safety system rejects
    prompt = unique("[fault:safety] something")
    job_id = submit_generation(stack, account_id, prompt=prompt)

    # When the worker runs it
    _, response = stack.run_worker_once()

    # Then the message is done with (no retry), the job failed with the provider's code
    assert failures(response) == []
    assert stack.message_counts(stack.jobs_queue) == (0, 0)
    assert len(stack.provider.calls_for(prompt)) == 1
    view = json_body(get_job(stack, job_id, account_id))
    assert view["status"] == "failed" and view["error"]["code"] == "moderation_blocked" and view["data"] == []


def test_provider_outage_requeues_the_job_and_redelivers_its_message(stack: Stack, account_id: str) -> None:
    # Given a provider failing the first call with a 500 (the template's retry base is 0 s here)
    prompt = unique("[fault:500x1] retry me")
    job_id = submit_generation(stack, account_id, prompt=prompt)

    # When the worker runs it the first time
    message, response = stack.run_worker_once()

    # Then that record is reported failed, the job is queued again with the error noted
    assert failures(response) == [message["MessageId"]]
    item = stack.job_item(job_id)
    assert item["status"] == "queued" and item["attempts"] == 1 and "claim_token" not in item
    assert item["error"]["code"] in ("provider_error", "provider_unavailable", "server_error")
    # and the message's visibility was changed from the queue's 5400 s to the backoff: it is back at once
    [again] = stack.receive(stack.jobs_queue)
    assert again["MessageId"] == message["MessageId"] and again["Attributes"]["ApproximateReceiveCount"] == "2"

    # And when it is delivered again
    response = stack.invoke("WorkerFunction", stack.worker_event(again))

    # Then the job succeeds on its second attempt
    assert failures(response) == []
    item = stack.job_item(job_id)
    assert item["status"] == "succeeded" and item["attempts"] == 2 and item.get("error") is None
    assert len(stack.provider.calls_for(prompt)) == 2


def test_retry_after_from_the_provider_delays_the_message(stack: Stack, account_id: str) -> None:
    # Given a provider rate-limiting the first call with Retry-After: 1
    prompt = unique("[fault:429x1] busy")
    submit_generation(stack, account_id, prompt=prompt)

    # When the worker runs it
    message, response = stack.run_worker_once()

    # Then the message stays invisible for that second, then comes back
    assert failures(response) == [message["MessageId"]]
    assert stack.receive(stack.jobs_queue) == []
    [again] = stack.receive(stack.jobs_queue, wait_seconds=3)
    assert again["MessageId"] == message["MessageId"]


def test_last_attempt_ends_failed_provider_unavailable(stack: Stack, account_id: str) -> None:
    # Given a provider that always answers 500, and the template's RETOUCH_MAX_ATTEMPTS
    from retouch.config import worker_settings

    attempts = worker_settings().max_attempts
    prompt = unique("[fault:500] never")
    job_id = submit_generation(stack, account_id, prompt=prompt)

    # When the worker gets the message that many times
    results = [stack.run_worker_once()[1] for _ in range(attempts)]

    # Then every attempt but the last asked for a retry, the last ended the job failed, and the queue is empty
    assert [bool(failures(r)) for r in results] == [True] * (attempts - 1) + [False]
    item = stack.job_item(job_id)
    assert item["status"] == "failed" and item["error"]["code"] == "provider_unavailable"
    assert item["attempts"] == attempts and len(stack.provider.calls_for(prompt)) == attempts
    assert stack.message_counts(stack.jobs_queue) == (0, 0)


def test_poison_message_fails_alone(stack: Stack, account_id: str) -> None:
    # Given a batch with an unreadable message next to a real one
    prompt = unique("fine")
    job_id = submit_generation(stack, account_id, prompt=prompt)
    [message] = stack.receive(stack.jobs_queue)
    good = stack.worker_event(message)["Records"][0]
    bad = sqs_event("sqs_job.json", "", body="not json", message_id="poison-1")["Records"][0]

    # When the worker handles the batch
    response = stack.invoke("WorkerFunction", {"Records": [bad, good]})

    # Then only the poison message is reported; the real job ran
    assert failures(response) == ["poison-1"]
    assert stack.job_item(job_id)["status"] == "succeeded"


# -- Status: who may see a job -----------------------------------------------------------------------------


def test_another_accounts_job_is_404(stack: Stack, account_id: str) -> None:
    # Given a job of this account
    job_id = submit_generation(stack, account_id, prompt=unique("mine"))

    # When another account asks for it, and for a job id nobody has
    other = get_job(stack, job_id, stack.seed_account(new_account_id()))
    unknown = get_job(stack, new_job_id(), account_id)

    # Then both are the same 404 job_not_found
    for response in (other, unknown):
        assert response["statusCode"] == 404
        error = json_body(response)["error"]
        assert (error["code"], error["param"], error["type"]) == ("job_not_found", "job_id", "invalid_request_error")


def test_queued_job_status_and_401_without_account(stack: Stack, account_id: str) -> None:
    # Given a queued job
    job_id = submit_generation(stack, account_id, prompt=unique("waiting"), metadata={"order": "42"})

    # When its owner asks, and a caller without an account asks
    owner, anonymous = get_job(stack, job_id, account_id), get_job(stack, job_id, None)

    # Then the owner sees it queued with its metadata; the anonymous caller gets 401
    view = json_body(owner)
    assert owner["statusCode"] == 200 and view["status"] == "queued" and view["data"] == []
    assert view["metadata"] == {"order": "42"}
    assert anonymous["statusCode"] == 401 and json_body(anonymous)["error"]["code"] == "invalid_api_key"


# -- Dead-lettered messages ------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["queued", "running"])
def test_dead_letter_ends_an_unfinished_job(state: str, stack: Stack, account_id: str) -> None:
    # Given an unfinished job whose message ran out of receives (a running one's worker died: its lease ran out)
    job_id = submit_generation(stack, account_id, prompt=unique("stuck"))
    if state == "running":
        from retouch.data.jobs import JobRepository
        from tests.integration.core.aws_stack import client

        assert JobRepository(stack.table, client("dynamodb")).claim(job_id, token="crashed", now=1, lease_until=2)

    # When the dead_letter function gets the recorded dead-letter event for it
    response = stack.invoke("DeadLetterFunction", sqs_event("sqs_dead_letter.json", job_id))

    # Then the job ends failed processing_failed
    assert failures(response) == []
    item = stack.job_item(job_id)
    assert item["status"] == "failed" and item["error"]["code"] == "processing_failed"
    assert "claim_token" not in item


def test_dead_letter_leaves_an_ended_job_alone(stack: Stack, account_id: str) -> None:
    # Given a job that succeeded, whose stale duplicate message was dead-lettered
    job_id = submit_generation(stack, account_id, prompt=unique("done"))
    stack.run_worker_once()
    finished = stack.job_item(job_id)

    # When the dead_letter function sees it
    response = stack.invoke("DeadLetterFunction", sqs_event("sqs_dead_letter.json", job_id))

    # Then the job is untouched
    assert failures(response) == []
    assert stack.job_item(job_id) == finished and finished["status"] == "succeeded"


# -- Batches: several jobs in one invocation ------------------------------------------------------------------------


def test_a_batch_runs_each_job_and_reports_only_the_one_to_retry(stack: Stack, account_id: str) -> None:
    # Given three queued jobs: one the provider renders, one it fails with a 500 once, one its safety system rejects
    prompts = {"fine": unique("fine"), "outage": unique("[fault:500x1] later"), "refused": unique("[fault:safety] no")}
    job_ids = {name: submit_generation(stack, account_id, prompt=prompt) for name, prompt in prompts.items()}
    messages = stack.receive(stack.jobs_queue)
    assert len(messages) == 3
    by_job = {json_body({"body": m["Body"]})["job_id"]: m for m in messages}

    # When the event source hands them to one worker invocation as a batch
    response = stack.invoke("WorkerFunction", stack.worker_batch_event(messages))

    # Then only the outage's message is reported (to come back); each job went its own way, each provider call once
    assert failures(response) == [by_job[job_ids["outage"]]["MessageId"]]
    statuses = {name: stack.job_item(job_id)["status"] for name, job_id in job_ids.items()}
    assert statuses == {"fine": "succeeded", "outage": "queued", "refused": "failed"}
    assert all(len(stack.provider.calls_for(prompt)) == 1 for prompt in prompts.values())
    # and each ended job was claimed once, by its own record
    assert {stack.job_item(job_ids[name])["attempts"] for name in ("fine", "refused")} == {1}
