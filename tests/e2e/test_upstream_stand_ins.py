"""The running stack's upstream stand-ins (`stack.upstream_urls`): each answers its adapter with the stack's
stand-in key, fetching the input from a presigned URL on the stack's own S3 bucket; a wrong key gets its 401."""

from __future__ import annotations

import httpx
import pytest

from local.stack import STAND_IN_PROVIDER_KEY
from local.stand_ins.upstreams import STACK_PROVIDER_KIND, STAND_INS
from retouch.providers.base import ProviderAuthFailed
from retouch.providers.upstream import Finished
from retouch.upstream_registry import UPSTREAMS
from tests.integration.providers.upstream_stand_ins import S3Presigner, adapter_for, input_image, run_to_end

pytestmark = pytest.mark.local_only


def test_the_stack_runs_a_stand_in_per_upstream_serving_its_adapter(stack, aws) -> None:
    # Given a stand-in per registered kind (the openai kind's is the stack's provider)
    assert set(stack.upstream_urls) == set(STAND_INS) == set(UPSTREAMS) - {STACK_PROVIDER_KIND}
    presign = S3Presigner(aws("s3"), stack.resources.ref("Bucket"))
    for name, base_url in stack.upstream_urls.items():
        stand_in = stack.upstreams.by_name[name]
        assert stand_in.base_url == base_url
        adapter = adapter_for(stand_in, STAND_IN_PROVIDER_KEY, presign, httpx.Client())
        outcome, _ = run_to_end(adapter, adapter.submit(images=[input_image()], mask=None,
                                                        options={"prompt": f"e2e through {name}"}))
        assert isinstance(outcome, Finished) and outcome.upstream == name
        assert outcome.result.images[0].data[:4] in (b"\x89PNG", b"RIFF", b"\xff\xd8\xff\xe0")

        wrong_key = adapter_for(stand_in, "not-the-stand-in-key", presign, httpx.Client())
        with pytest.raises(ProviderAuthFailed):
            wrong_key.submit(images=[input_image()], mask=None, options={"prompt": f"wrong key for {name}"})
