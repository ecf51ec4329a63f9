"""fal adapter: queue submit -> status (202 until COMPLETED) -> result, `Key` auth, custom sizes."""

from __future__ import annotations

import pytest

from retouch.providers.base import ProviderAuthFailed, ProviderRefused, ProviderUnavailable
from retouch.providers.fal import FalUpstream
from retouch.providers.upstream import Finished, Pending, PollHandle
from tests.unit.providers.replay import (
    PUBLIC_OUTPUTS,
    SAMPLES,
    FakePresigner,
    Replay,
    answering,
    input_image,
    refusing_client,
)

KEY = "fal-test-key"


def test_submit_then_status_then_result() -> None:
    replay = Replay("fal/queue_submit_status_result.json")
    clock = iter([10.0, 85.0])
    adapter = FalUpstream(api_key=KEY, presign=FakePresigner(), timeout_seconds=30, client=replay.client,
                          outputs=PUBLIC_OUTPUTS,
                          clock=lambda: next(clock))

    outcome = adapter.submit(images=[input_image("inputs/job_1/0.png")], mask=None, options={
        "prompt": "Same workers, same beam, same lunch boxes - but they're all on their phones now.",
        "n": 1, "size": "1024x1536", "quality": "medium", "output_format": "webp"})
    assert isinstance(outcome, Pending)
    assert outcome.handle.upstream_job_id == "764cabcf-b745-4b3e-ae38-1200304cf45b"
    handle = PollHandle.from_json(outcome.handle.to_json())
    outcome = adapter.poll(handle)
    assert isinstance(outcome, Pending)  # 202 IN_PROGRESS
    outcome = adapter.poll(outcome.handle)

    replay.assert_done()
    assert isinstance(outcome, Finished)
    assert outcome.latency_ms == 75_000
    assert outcome.result.images[0].data == SAMPLES["webp"]
    assert outcome.result.images[0].content_type == "image/webp"


def test_the_models_error_at_result_time_is_refused_and_a_wrong_key_is_auth_failed() -> None:
    handle = PollHandle(upstream="fal", upstream_job_id="r", status_url="https://queue.fal.run/openai/gpt-image-2/requests/r/status",
                        result_url="https://queue.fal.run/openai/gpt-image-2/requests/r", submitted_at=0,
                        poll_after_seconds=5)
    invalid = FalUpstream(api_key=KEY, presign=FakePresigner(), timeout_seconds=30, client=answering(
        422, {"detail": [{"loc": ["body", "image_urls"], "msg": "image could not be downloaded",
                          "type": "image_load_error"}], "status": "COMPLETED"}))
    with pytest.raises(ProviderRefused) as refused:
        invalid.poll(handle)
    assert refused.value.code == "image_load_error"
    wrong_key = FalUpstream(api_key=KEY, presign=FakePresigner(), timeout_seconds=30,
                            client=answering(401, {"detail": "Invalid key"}))
    with pytest.raises(ProviderAuthFailed):
        wrong_key.submit(images=[input_image("in/a.png")], mask=None, options={"prompt": "p"})


def test_status_and_result_urls_off_the_queue_origin_never_get_the_key() -> None:
    # Given a submit answer naming status/response URLs on another host
    client = answering(200, {"request_id": "r", "status_url": "https://collector.example/requests/r/status",
                             "response_url": "https://collector.example/requests/r"})
    adapter = FalUpstream(api_key=KEY, presign=FakePresigner(), timeout_seconds=30, client=client)
    # When the job is submitted, Then the answer is unusable
    with pytest.raises(ProviderUnavailable) as raised:
        adapter.submit(images=[input_image("in/a.png")], mask=None, options={"prompt": "p"})
    assert raised.value.code == "provider_bad_response"
    # And a stored handle whose result URL points elsewhere is refused before any call carrying the key
    refusing, seen = refusing_client()
    adapter = FalUpstream(api_key=KEY, presign=FakePresigner(), timeout_seconds=30, client=refusing)
    handle = PollHandle(upstream="fal", upstream_job_id="r", status_url="https://queue.fal.run/openai/gpt-image-2/requests/r/status",
                        result_url="https://collector.example/requests/r", submitted_at=0, poll_after_seconds=5)
    with pytest.raises(ProviderUnavailable):
        adapter.poll(handle)
    assert seen == []


def test_a_submit_with_a_callback_asks_fal_to_call_it_when_done() -> None:
    import httpx

    seen: list[httpx.Request] = []

    def queue(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        base = "https://queue.fal.run/openai/gpt-image-2/requests/r"
        return httpx.Response(200, json={"request_id": "r", "status_url": f"{base}/status", "response_url": base})

    adapter = FalUpstream(api_key=KEY, presign=FakePresigner(), timeout_seconds=30,
                          client=httpx.Client(transport=httpx.MockTransport(queue)))
    callback = "https://api.example/v1/upstream-callbacks/fal/job_x"
    outcome = adapter.submit_with_callback(images=[input_image("in/a.png")], mask=None, options={"prompt": "p"},
                                           callback_url=callback)
    assert isinstance(outcome, Pending)
    assert seen[0].url.params["fal_webhook"] == callback
    adapter.submit(images=[input_image("in/a.png")], mask=None, options={"prompt": "p"})
    assert "fal_webhook" not in seen[1].url.params
