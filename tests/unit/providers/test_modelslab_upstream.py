"""ModelsLab adapter: key in the body, init_image URLs, size presets, `processing` + fetch_result polling."""

from __future__ import annotations

import pytest

from retouch.providers.base import ProviderAuthFailed, ProviderRefused, ProviderUnavailable
from retouch.providers.modelslab import ModelsLabUpstream
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

KEY = "modelslab-test-key"
PROMPT = ("The girl in image 1 and the dog in image 2 together in same frame, in living room, sofa in the "
          "background")


def test_processing_answer_becomes_a_pending_handle_polled_at_fetch_result_until_success() -> None:
    replay = Replay("modelslab/processing_then_fetch.json")
    clock = iter([1000.0, 1061.5])
    adapter = ModelsLabUpstream(api_key=KEY, presign=FakePresigner(), timeout_seconds=30, client=replay.client,
                                outputs=PUBLIC_OUTPUTS,
                                clock=lambda: next(clock))

    submitted = adapter.submit(images=[input_image("inputs/job_1/0.png"), input_image("inputs/job_1/1.png")],
                               mask=None, options={"prompt": PROMPT, "size": "1536x1024", "n": 1})

    assert isinstance(submitted, Pending)
    handle = PollHandle.from_json(submitted.handle.to_json())
    assert (handle.upstream_job_id, handle.poll_after_seconds) == ("128842507", 45)
    assert handle.status_url == "https://modelslab.com/api/v7/images/fetch/128842507"
    assert KEY not in str(handle.to_json())  # the handle rides on a queue message: no secret in it
    again = adapter.poll(handle)
    assert isinstance(again, Pending) and again.handle.poll_after_seconds == 20
    finished = adapter.poll(again.handle)
    replay.assert_done()
    assert isinstance(finished, Finished)
    assert finished.upstream_job_id == "128842507"
    assert finished.latency_ms == 61_500
    assert finished.result.images[0].data == SAMPLES["png"]
    assert finished.result.size == "1536x1024"


@pytest.mark.parametrize(("options", "mask", "param"), [
    ({"size": "1280x720"}, False, "size"),
    ({"n": 2}, False, "n"),
    ({"quality": "high"}, False, "quality"),
    ({"output_format": "jpeg"}, False, "output_format"),
    ({}, True, "mask"),
])
def test_what_it_cannot_do_is_refused_before_any_call(options: dict[str, object], mask: bool, param: str) -> None:
    client, seen = refusing_client()
    adapter = ModelsLabUpstream(api_key=KEY, presign=FakePresigner(), timeout_seconds=30, client=client)
    with pytest.raises(ProviderRefused) as raised:
        adapter.submit(images=[input_image("in/a.png")], mask=input_image("in/m.png") if mask else None,
                       options={"prompt": "p", **options})
    assert f"'{param}'" in raised.value.message
    assert seen == []


def test_fifteen_images_are_refused_before_any_call() -> None:
    client, seen = refusing_client()
    adapter = ModelsLabUpstream(api_key=KEY, presign=FakePresigner(), timeout_seconds=30, client=client)
    with pytest.raises(ProviderRefused):
        adapter.submit(images=[input_image(f"in/{i}.png") for i in range(15)], mask=None, options={"prompt": "p"})
    assert seen == []


def test_error_answers_with_http_200_are_classified() -> None:
    invalid_key = ModelsLabUpstream(api_key=KEY, presign=FakePresigner(), timeout_seconds=30,
                                    client=answering(200, {"status": "error", "message": "Invalid Api Key"}))
    with pytest.raises(ProviderAuthFailed):
        invalid_key.submit(images=[input_image("in/a.png")], mask=None, options={"prompt": "p"})
    bad_image = ModelsLabUpstream(api_key=KEY, presign=FakePresigner(), timeout_seconds=30,
                                  client=answering(200, {"status": "error", "message": "init_image is not valid"}))
    with pytest.raises(ProviderRefused) as raised:
        bad_image.submit(images=[input_image("in/a.png")], mask=None, options={"prompt": "p"})
    assert "init_image" in raised.value.message


def test_a_fetch_result_off_the_configured_origin_never_gets_the_key() -> None:
    # Given an answer naming a fetch_result URL on another host (https, but not ModelsLab's)
    client = answering(200, {"status": "processing", "id": 7, "eta": 5,
                             "fetch_result": "https://collector.example/api/v7/images/fetch/7"})
    adapter = ModelsLabUpstream(api_key=KEY, presign=FakePresigner(), timeout_seconds=30, client=client)
    # When the job is submitted, Then the answer is unusable rather than a handle to poll there
    with pytest.raises(ProviderUnavailable) as raised:
        adapter.submit(images=[input_image("in/a.png")], mask=None, options={"prompt": "p"})
    assert raised.value.code == "provider_bad_response"
    # And a stored handle pointing elsewhere is refused before any call carrying the key
    refusing, seen = refusing_client()
    adapter = ModelsLabUpstream(api_key=KEY, presign=FakePresigner(), timeout_seconds=30, client=refusing)
    handle = PollHandle(upstream="modelslab", upstream_job_id="7", status_url="https://modelslab.com.evil.example/f/7",
                        result_url=None, submitted_at=0, poll_after_seconds=5)
    with pytest.raises(ProviderUnavailable):
        adapter.poll(handle)
    assert seen == []
