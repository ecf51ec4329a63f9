"""Oxen adapter: async queue, `input_image` URLs, resolutions, and the mask converted to white = edit."""

from __future__ import annotations

import io

import httpx
import pytest
from PIL import Image

from retouch.providers.base import ProviderRefused, ProviderUnavailable
from retouch.providers.oxen import OxenUpstream, white_edit_mask
from retouch.providers.upstream import Finished, Pending
from tests.unit.providers.replay import (
    PUBLIC_OUTPUTS,
    SAMPLES,
    FakePresigner,
    Replay,
    answering,
    input_image,
    refusing_client,
)

KEY = "oxen-test-key"
PROMPT = ("Place the subject on the surface of the moon with Earth rising in the background, photorealistic, "
          "cinematic lighting.")


def test_enqueue_then_poll_until_succeeded_with_its_cost() -> None:
    replay = Replay("oxen/queue_then_poll.json")
    clock = iter([50.0, 92.25])
    adapter = OxenUpstream(api_key=KEY, presign=FakePresigner(), timeout_seconds=30, client=replay.client,
                           outputs=PUBLIC_OUTPUTS,
                           clock=lambda: next(clock))

    outcome = adapter.submit(images=[input_image("inputs/job_1/0.png")], mask=None,
                             options={"prompt": PROMPT, "size": "auto", "quality": "high", "output_format": "png"})
    assert isinstance(outcome, Pending)
    assert outcome.handle.poll_after_seconds == 5
    outcome = adapter.poll(outcome.handle)
    assert isinstance(outcome, Pending)
    outcome = adapter.poll(outcome.handle)

    replay.assert_done()
    assert isinstance(outcome, Finished)
    assert (outcome.upstream_job_id, outcome.cost_micros, outcome.latency_ms) == ("gen_01JSX3K4Q9", 200_000, 42_250)
    assert outcome.result.images[0].data == SAMPLES["png"]


def _alpha_mask() -> bytes:
    """Left half transparent (edit), right half opaque (keep)."""
    image = Image.new("RGBA", (4, 2), (0, 0, 0, 255))
    for x in range(2):
        for y in range(2):
            image.putpixel((x, y), (0, 0, 0, 0))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_an_openai_mask_is_converted_to_white_means_edit() -> None:
    with Image.open(io.BytesIO(white_edit_mask(_alpha_mask()))) as converted:
        assert converted.size == (4, 2)
        assert [converted.getpixel((x, 0)) for x in range(4)] == [255, 255, 0, 0]


def test_the_converted_mask_is_staged_and_sent_as_mask_url() -> None:
    sent: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        import json

        sent.append(json.loads(request.read()))
        return httpx.Response(200, json={"generations": [{"generation_id": "gen_1"}]})

    import httpx
    presigner = FakePresigner()
    adapter = OxenUpstream(api_key=KEY, presign=presigner, timeout_seconds=30,
                           client=httpx.Client(transport=httpx.MockTransport(handler)))
    adapter.submit(images=[input_image("in/a.png")], mask=input_image("in/m.png", _alpha_mask()),
                   options={"prompt": "p"})
    assert len(presigner.staged) == 1
    assert presigner.staged[0].data == white_edit_mask(_alpha_mask())
    assert sent[0]["mask_url"] == "https://retouch-inputs.s3.amazonaws.com/staged/1.png?X-Amz-Expires=900&X-Amz-Signature=test"


@pytest.mark.parametrize(("options", "param"), [({"size": "1536x1024"}, "size"), ({"n": 2}, "n")])
def test_what_it_cannot_do_is_refused_before_any_call(options: dict[str, object], param: str) -> None:
    client, seen = refusing_client()
    adapter = OxenUpstream(api_key=KEY, presign=FakePresigner(), timeout_seconds=30, client=client)
    with pytest.raises(ProviderRefused) as raised:
        adapter.submit(images=[input_image("in/a.png")], mask=None, options={"prompt": "p", **options})
    assert f"'{param}'" in raised.value.message
    assert seen == []


@pytest.mark.parametrize(("answer", "refused"), [
    ({"status": "failed", "error_message": "Your request was rejected by the safety system"}, True),
    ({"status": "failed", "error_message": "upstream worker crashed"}, False),
    ({"status": "cancelled"}, False),
])
def test_failed_generations(answer: dict[str, str], refused: bool) -> None:
    adapter = OxenUpstream(api_key=KEY, presign=FakePresigner(), timeout_seconds=30, client=answering(200, answer))
    from retouch.providers.upstream import PollHandle
    handle = PollHandle(upstream="oxen", upstream_job_id="g", status_url="https://hub.oxen.ai/api/ai/queue/g",
                        result_url=None, submitted_at=0, poll_after_seconds=5)
    with pytest.raises((ProviderRefused, ProviderUnavailable)) as raised:
        adapter.poll(handle)
    assert isinstance(raised.value, ProviderRefused) is refused
