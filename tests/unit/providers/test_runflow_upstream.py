"""Runflow adapter: image_urls, num_images, mask_url, sync_mode data URIs."""

from __future__ import annotations

import pytest

from retouch.providers.base import ProviderRefused, ProviderUnavailable
from retouch.providers.runflow import RunflowUpstream
from retouch.providers.upstream import Finished
from tests.unit.providers.replay import (
    PUBLIC_OUTPUTS,
    SAMPLES,
    FakePresigner,
    Replay,
    answering,
    input_image,
    refusing_client,
)

KEY = "runflow-test-key"


def test_edit_in_sync_mode_decodes_the_data_uris() -> None:
    replay = Replay("runflow/edit_sync_mode.json")
    adapter = RunflowUpstream(api_key=KEY, presign=FakePresigner(), timeout_seconds=30, client=replay.client,
                              outputs=PUBLIC_OUTPUTS)

    outcome = adapter.submit(images=[input_image("inputs/job_1/0.png")], mask=input_image("inputs/job_1/mask.png"),
                             options={"prompt": "A professional headshot, soft studio lighting", "n": 2,
                                      "size": "auto", "quality": "auto", "output_format": "png"})

    replay.assert_done()
    assert isinstance(outcome, Finished)
    assert [image.data for image in outcome.result.images] == [SAMPLES["png"]] * 2
    assert outcome.cost_micros is None


@pytest.mark.parametrize(("options", "param"), [({"size": "1024x1536"}, "size"), ({"n": 5}, "n")])
def test_what_it_cannot_do_is_refused_before_any_call(options: dict[str, object], param: str) -> None:
    client, seen = refusing_client()
    adapter = RunflowUpstream(api_key=KEY, presign=FakePresigner(), timeout_seconds=30, client=client)
    with pytest.raises(ProviderRefused) as raised:
        adapter.submit(images=[input_image("in/a.png")], mask=None, options={"prompt": "p", **options})
    assert f"'{param}'" in raised.value.message
    assert seen == []


def test_rate_limit_is_retryable_and_validation_errors_are_refused() -> None:
    limited = RunflowUpstream(api_key=KEY, presign=FakePresigner(), timeout_seconds=30,
                              client=answering(429, {"detail": "Too many requests"}, {"Retry-After": "3"}))
    with pytest.raises(ProviderUnavailable) as raised:
        limited.submit(images=[input_image("in/a.png")], mask=None, options={"prompt": "p"})
    assert raised.value.retry_after == 3.0
    invalid = RunflowUpstream(api_key=KEY, presign=FakePresigner(), timeout_seconds=30, client=answering(
        422, {"detail": [{"loc": ["body", "image_urls"], "msg": "field required", "type": "value_error.missing"}]}))
    with pytest.raises(ProviderRefused) as refused:
        invalid.submit(images=[input_image("in/a.png")], mask=None, options={"prompt": "p"})
    assert refused.value.code == "value_error.missing"
