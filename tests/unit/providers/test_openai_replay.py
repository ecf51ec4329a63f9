"""The OpenAI upstream against its recorded edit: every field the client sent (its model name too), Bearer key,
OpenAI's answer parsed whole."""

from __future__ import annotations

from retouch.providers.openai import openai_upstream
from retouch.providers.upstream import Finished
from tests.unit.providers.replay import PUBLIC_OUTPUTS, SAMPLES, Replay, input_image


def test_edit_with_mask_sends_every_field_as_asked_and_reads_the_request_id() -> None:
    # Given OpenAI answering as recorded
    replay = Replay("openai/edit_with_mask.json")
    adapter = openai_upstream(api_key="sk-openai-test-key", timeout_seconds=30, client=replay.client,
                              outputs=PUBLIC_OUTPUTS)

    # When two images and a mask are edited
    outcome = adapter.submit(
        images=[input_image("in/photo.png"), input_image("in/sky.png")], mask=input_image("in/mask.png"),
        options={"model": "gpt-image-2-2026-04-21", "prompt": "Replace the sky with a sunset", "n": 2,
                 "size": "1024x1536", "quality": "high", "output_format": "webp", "moderation": "auto",
                 "safety_identifier": "user-1", "background": None})

    # Then the request is the recorded one, and the answer is read whole
    replay.assert_done()
    assert isinstance(outcome, Finished)
    assert (outcome.upstream, outcome.upstream_job_id, outcome.cost_micros) == ("openai", "req_7f3c2a9e51b04d8c", None)
    assert [image.data for image in outcome.result.images] == [SAMPLES["webp"]] * 2
    assert outcome.result.usage["total_tokens"] == 7000
    assert (outcome.result.size, outcome.result.quality, outcome.result.background) == ("1024x1536", "high", "opaque")
