"""AIML API adapter against the seed's recorded edit and generation exchanges."""

from __future__ import annotations

import pytest

from retouch.providers.aiml import aiml_upstream
from retouch.providers.base import ProviderAuthFailed, ProviderRefused, ProviderUnavailable
from retouch.providers.upstream import Finished
from tests.unit.providers.replay import PUBLIC_OUTPUTS, SAMPLES, Replay, answering, input_image, refusing_client

KEY = "aiml-test-key"


def test_edit_of_two_images_maps_to_its_multipart_form_and_reports_usd_spent() -> None:
    replay = Replay("aiml/edit_two_images.json")
    adapter = aiml_upstream(api_key=KEY, timeout_seconds=30, client=replay.client, outputs=PUBLIC_OUTPUTS)

    outcome = adapter.submit(images=[input_image("in/t-rex.png"), input_image("in/crown.png")], mask=None,
                             options={"model": "gpt-image-2", "prompt": "Put the crown on the T-rex's head",
                                      "n": 1, "size": "auto", "quality": "auto", "output_format": "png",
                                      "moderation": "auto"})

    replay.assert_done()
    assert isinstance(outcome, Finished)
    assert outcome.cost_micros == 95_225  # meta.usage.usd_spent 0.095225
    assert outcome.upstream == "aiml"
    assert [image.data for image in outcome.result.images] == [SAMPLES["png"]]
    # `auto` is not in its enums: left out, so it resolves to its documented defaults, which billing settles at.
    assert (outcome.result.size, outcome.result.quality) == ("1024x1024", "medium")


def test_generation_is_json_with_its_model_name() -> None:
    replay = Replay("aiml/generate.json")
    adapter = aiml_upstream(api_key=KEY, timeout_seconds=30, client=replay.client, outputs=PUBLIC_OUTPUTS)

    outcome = adapter.submit(images=[], mask=None,
                             options={"prompt": "A T-Rex relaxing on a beach, lying on a sun lounger and wearing "
                                                "sunglasses.", "model": "gpt-image-2"})

    replay.assert_done()
    assert isinstance(outcome, Finished)
    assert outcome.result.images[0].content_type == "image/png"


@pytest.mark.parametrize(("options", "param"), [
    ({"size": "2048x2048"}, "size"),
    ({"n": 11}, "n"),
])
def test_what_it_cannot_do_is_refused_before_any_call(options: dict[str, object], param: str) -> None:
    client, seen = refusing_client()
    adapter = aiml_upstream(api_key=KEY, timeout_seconds=30, client=client)
    with pytest.raises(ProviderRefused) as raised:
        adapter.submit(images=[input_image("in/a.png")], mask=None, options={"prompt": "p", **options})
    assert raised.value.code == "unsupported_by_upstream"
    assert f"'{param}'" in raised.value.message
    assert seen == []


def test_seventeen_images_are_refused_before_any_call() -> None:
    client, seen = refusing_client()
    adapter = aiml_upstream(api_key=KEY, timeout_seconds=30, client=client)
    with pytest.raises(ProviderRefused):
        adapter.submit(images=[input_image(f"in/{i}.png") for i in range(17)], mask=None, options={"prompt": "p"})
    assert seen == []


def test_wrong_key_and_overload() -> None:
    unauthorized = aiml_upstream(api_key=KEY, timeout_seconds=30, client=answering(401, {"message": "Unauthorized"}))
    with pytest.raises(ProviderAuthFailed):
        unauthorized.submit(images=[input_image("in/a.png")], mask=None, options={"prompt": "p"})
    overloaded = aiml_upstream(api_key=KEY, timeout_seconds=30, client=answering(503))
    with pytest.raises(ProviderUnavailable) as raised:
        overloaded.submit(images=[input_image("in/a.png")], mask=None, options={"prompt": "p"})
    assert not isinstance(raised.value, ProviderAuthFailed)
