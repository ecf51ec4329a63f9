"""Azure OpenAI adapter: deployment URL with api-version, api-key header, no `model` field, OpenAI-shaped answer."""

from __future__ import annotations

import pytest

from retouch.providers.azure_openai import azure_openai_upstream
from retouch.providers.base import ProviderAuthFailed, ProviderRefused
from retouch.providers.upstream import Finished
from tests.unit.providers.replay import PUBLIC_OUTPUTS, SAMPLES, Replay, answering, input_image

ENDPOINT = "https://my-resource.openai.azure.com/"


def test_edit_with_mask_goes_to_the_deployment_with_the_api_key_header() -> None:
    replay = Replay("azure_openai/edit_with_mask.json")
    adapter = azure_openai_upstream(endpoint=ENDPOINT, deployment="gpt-image-2-prod", api_key="azure-test-key",
                                    timeout_seconds=30, client=replay.client, outputs=PUBLIC_OUTPUTS)

    outcome = adapter.submit(
        images=[input_image("in/photo.png")], mask=input_image("in/mask.png"),
        options={"model": "gpt-image-2", "prompt": "Replace the sky with a sunset", "n": 2, "size": "1024x1536",
                 "quality": "high", "output_format": "jpeg", "output_compression": 80, "moderation": "auto",
                 "safety_identifier": "user-1"})

    replay.assert_done()
    request = replay.seen[0]
    assert "authorization" not in request.headers
    assert isinstance(outcome, Finished)
    assert outcome.upstream_job_id == "6d6b5d36-4b8a-4f2c-9a51-2f8d0c1e7a10"
    assert outcome.cost_micros is None  # Azure reports tokens, not money
    assert [image.data for image in outcome.result.images] == [SAMPLES["jpeg"]] * 2
    assert (outcome.result.size, outcome.result.quality, outcome.result.output_format) == ("1024x1536", "high", "jpeg")


def test_wrong_key_is_provider_auth_failed_and_a_bad_deployment_is_refused() -> None:
    wrong_key = azure_openai_upstream(endpoint=ENDPOINT, deployment="d", api_key="k", timeout_seconds=30,
                                      client=answering(401, {"error": {"code": "401", "message": "Access denied"}}))
    with pytest.raises(ProviderAuthFailed):
        wrong_key.submit(images=[input_image("in/a.png")], mask=None, options={"prompt": "p"})
    missing = azure_openai_upstream(endpoint=ENDPOINT, deployment="d", api_key="k", timeout_seconds=30,
                                    client=answering(404, {"error": {"code": "DeploymentNotFound",
                                                                     "message": "The API deployment does not exist"}}))
    with pytest.raises(ProviderRefused) as raised:
        missing.submit(images=[input_image("in/a.png")], mask=None, options={"prompt": "p"})
    assert raised.value.code == "DeploymentNotFound"
