"""An edit through Retouch for every upstream: HTTP (or the openai SDK) -> api -> queue -> worker -> the upstream's
adapter -> its stand-in -> outputs in S3 -> job succeeded.

tests/fixtures/routing/e2e.json routes gpt-image-2 to openai, azure_openai, aiml, modelslab, oxen, runflow, fal in
that order; a job meant for the k-th upstream carries `[fault:<u>:503]` for each one before it, so every earlier
upstream answers 503 and the job falls back, within its first delivery, to the one under test. The document's
breaker needs 1000 calls to trip, so these deliberate failures never open a circuit. Asynchronous upstreams
(ModelsLab, Oxen, fal) answer "queued": the worker returns, and a delayed SQS message (UpstreamPollDelayMaxSeconds,
1 s here) polls them; the job shows the `pending` attempt, then the `succeeded` one, a poll delay later. fal also
calls the job's callback route when its image is ready (its stand-in: `provider_delay` after the submit), which wakes
the job without waiting for the poll, so its finish may come sooner than a poll delay after its `pending`.
"""

from __future__ import annotations

import concurrent.futures
import io
import uuid
from typing import Any

import httpx
import openai
import pytest
from PIL import Image

from local.stand_ins.upstreams import ASYNC_UPSTREAMS
from tests.e2e.conftest import png_bytes
from tests.e2e.test_core import poll

# local_only: the routing document, the stand-ins and their fault language are the local stack's
pytestmark = [pytest.mark.e2e, pytest.mark.local_only]

ROUTE = ("openai", "azure_openai", "aiml", "modelslab", "oxen", "runflow", "fal")
POLL_DELAY_SECONDS = 1  # UpstreamPollDelayMaxSeconds in tests/e2e/conftest.py
CALLBACK_UPSTREAMS = frozenset({"fal"})  # given a callback URL at submit (retouch.providers.callbacks.TakesCallbacks)


def prompt_for(upstream: str) -> str:
    """A prompt that every upstream before `upstream` in the route answers with 503."""
    faults = "".join(f"[fault:{earlier}:503]" for earlier in ROUTE[:ROUTE.index(upstream)])
    return f"a lighthouse at dusk {faults} #{uuid.uuid4().hex[:8]}"


def submit_edit(http: httpx.Client, prompt: str) -> str:
    response = http.post("/v1/images/edits", files=[("image[]", ("photo.png", png_bytes((1024, 1024)), "image/png"))],
                         data={"model": "gpt-image-2", "prompt": prompt})
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def assert_served_by(job: dict[str, Any], upstream: str) -> None:
    """Succeeded at `upstream` after a 503 at each earlier one; an async upstream pending first, then finished a
    delayed poll later, under the same upstream job id."""
    assert job["status"] == "succeeded", job
    assert job["upstream"] == upstream
    earlier = ROUTE[:ROUTE.index(upstream)]
    attempts = job["upstream_attempts"]
    assert [(a["upstream"], a["outcome"], a["code"]) for a in attempts[:len(earlier)]] == [
        (name, "unavailable", "provider_error") for name in earlier]
    served = attempts[len(earlier):]
    if upstream in ASYNC_UPSTREAMS:
        pending, finished = served
        assert (pending["upstream"], pending["outcome"]) == (upstream, "pending")
        assert (finished["upstream"], finished["outcome"]) == (upstream, "succeeded")
        assert pending["upstream_job_id"] and finished["upstream_job_id"] == pending["upstream_job_id"]
        # finished by a later delivery, not inline: the delayed poll, or (fal) its callback, which can beat the poll
        least = 0 if upstream in CALLBACK_UPSTREAMS else POLL_DELAY_SECONDS
        assert finished["at"] - pending["at"] >= least
    else:
        [finished] = served
        assert (finished["upstream"], finished["outcome"]) == (upstream, "succeeded")
    assert finished["latency_ms"] is not None


def assert_output_in_s3(stack, job: dict[str, Any]) -> None:
    [output] = job["data"]
    assert output["url"].startswith(stack.aws_endpoint_url)  # presigned from the stack's bucket
    image = Image.open(io.BytesIO(httpx.get(output["url"], timeout=30).content))
    assert image.size == (output["width"], output["height"])


def test_an_edit_through_retouch_is_served_by_each_upstream_via_its_stand_in(stack, http):
    # Given one edit per upstream but the first, each failing over to its upstream (the openai one is below)
    prompts = {upstream: prompt_for(upstream) for upstream in ROUTE if upstream != "openai"}
    job_ids = {upstream: submit_edit(http, prompt) for upstream, prompt in prompts.items()}
    # When they run (at once: the async ones wait on delayed messages, not in a worker)
    with concurrent.futures.ThreadPoolExecutor(len(job_ids)) as pool:
        finished = pool.map(lambda job_id: poll(http, job_id, timeout=60), job_ids.values())
        done = dict(zip(job_ids, finished, strict=True))
    # Then each was served by its upstream, with its output stored in S3, and charged once
    for upstream, job in done.items():
        assert_served_by(job, upstream)
        assert_output_in_s3(stack, job)
        assert job["usage"]["images"] == 1
    # And each earlier stand-in was called once (its 503), the serving one got the edit, no later one was called
    for upstream, prompt in prompts.items():
        position = ROUTE.index(upstream)
        calls = {name: len(stand_in(stack, name).calls_for(prompt)) for name in ROUTE}
        assert all(calls[name] == 1 for name in ROUTE[:position]), calls
        assert calls[upstream] >= 1 and not any(calls[name] for name in ROUTE[position + 1:]), calls


def stand_in(stack, name: str):
    return stack.provider if name == "openai" else stack.upstreams.by_name[name]


def test_the_openai_sdk_through_the_synchronous_entry_is_served_by_openai_first(stack):
    # Given the openai SDK on the synchronous entry, and an edit no upstream refuses
    client = openai.OpenAI(base_url=f"{stack.function_urls['SyncFunction']}/v1", api_key=stack.api_key,
                           max_retries=0, timeout=60)
    prompt = prompt_for("openai")
    # When it edits (the call holds until the job ends)
    raw = client.images.with_raw_response.edit(model="gpt-image-2", image=("photo.png", png_bytes((1024, 1024)),
                                                                           "image/png"), prompt=prompt)
    result = raw.parse()
    assert result.data and result.data[0].b64_json
    # Then the job it made was served by the first upstream, at once
    job_id = raw.headers["location"].rsplit("/", 1)[-1]
    job = httpx.get(f"{stack.base_url}/v1/jobs/{job_id}", headers={"Authorization": f"Bearer {stack.api_key}"},
                    timeout=30).json()
    assert_served_by(job, "openai")
    assert [call.prompt for call in stack.provider.calls_for(prompt)] == [prompt]
