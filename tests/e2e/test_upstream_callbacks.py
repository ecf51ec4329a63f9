"""fal's webhooks through the local stack: the worker submits with `fal_webhook` pointing at the API's callback
route, the fal stand-in calls it (signed with its key, published as a JWKS) once the image is ready, and the call,
authenticated, wakes the job; a call that is not signed by fal moves nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from local.stack import LoopbackStack
from tests.e2e.conftest import png_bytes

pytestmark = [pytest.mark.e2e, pytest.mark.local_only, pytest.mark.timeout(180)]

ROUTING = Path(__file__).resolve().parents[1] / "fixtures" / "routing" / "fal_first.json"


@pytest.fixture(scope="module")
def fal_stack(tmp_path_factory) -> Iterator[LoopbackStack]:
    log_path = tmp_path_factory.mktemp("callbacks") / "stack.log"
    with LoopbackStack(port=0, provider_delay=1.0, quiet=True, log_path=log_path,
                       parameter_overrides={"RoutingDocument": str(ROUTING), "ProviderTimeoutSeconds": "30"}) as stack:
        yield stack


def test_fals_signed_webhook_wakes_the_job_and_it_succeeds(fal_stack: LoopbackStack):
    stack = fal_stack
    fal = stack.upstreams.by_name["fal"]
    # Given an edit routed to fal (its fallback poll 5 s after submit, the image ready after 1 s), not held
    with httpx.Client(base_url=stack.base_url, headers={"Authorization": f"Bearer {stack.api_key}"},
                      timeout=60) as http:
        answer = http.post("/v1/images/edits", files=[("image[]", ("a.png", png_bytes((256, 256)), "image/png"))],
                           data={"prompt": "a hat", "size": "1024x1024"})
        assert answer.status_code == 202, answer.text
        deadline = time.monotonic() + 60
        while (job := http.get(f"/v1/jobs/{answer.json()['id']}").json())["status"] in ("queued", "running") \
                and time.monotonic() < deadline:
            time.sleep(0.2)
    # Then the job succeeded at fal
    assert job["status"] == "succeeded" and job["upstream"] == "fal"
    [pending] = [a for a in job["upstream_attempts"] if a["outcome"] == "pending"]
    request_id = pending["upstream_job_id"]
    # ... and fal's signed call to the job's callback route woke it (before its fallback poll was due)
    deadline = time.monotonic() + 40
    while request_id not in fal.webhooks.answers and time.monotonic() < deadline:
        time.sleep(0.05)
    status, body = fal.webhooks.answers[request_id]
    assert (status, body) == (200, '{"woke": true}')


def test_a_callback_not_signed_by_fal_is_refused(fal_stack: LoopbackStack):
    stack = fal_stack
    fal = stack.upstreams.by_name["fal"]
    body = b'{"request_id": "00000000-0000-0000-0000-000000000000", "status": "OK", "payload": {}}'
    headers = fal.webhooks.headers("00000000-0000-0000-0000-000000000000", body)
    url = f"{stack.base_url}/v1/upstream-callbacks/fal/job_{'a' * 24}"
    # a body other than the one signed
    forged = httpx.post(url, content=body.replace(b"OK", b"KO"), headers=headers)
    # an old signature (replayed)
    stale = httpx.post(url, content=body, headers=fal.webhooks.headers(
        "00000000-0000-0000-0000-000000000000", body, timestamp=int(time.time()) - 3600))
    # no signature at all
    bare = httpx.post(url, content=body, headers={"Content-Type": "application/json"})
    assert [r.status_code for r in (forged, stale, bare)] == [403, 403, 403]
    assert forged.json()["error"]["code"] == "callback_not_authentic"
    # and a genuine one for a job that waits on nothing is acknowledged, and moves nothing
    genuine = httpx.post(url, content=body, headers=headers)
    assert genuine.status_code == 200 and genuine.json() == {"woke": False}
    # an upstream that does not call back
    assert httpx.post(f"{stack.base_url}/v1/upstream-callbacks/modelslab/job_{'a' * 24}", content=body,
                      headers=headers).status_code == 404
