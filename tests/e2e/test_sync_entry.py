"""The README's SDK snippet against a provider that answers in 33 s (past API Gateway's 30 s integration limit):
through the synchronous entry (the sync function's Function URL) it gets the image; the same call through API Gateway
gets the 202 job after at most 25 s."""

from __future__ import annotations

import io
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from PIL import Image

from local.stack import LoopbackStack

# local_only: its own stack with a slow stand-in provider, and its log
pytestmark = [pytest.mark.e2e, pytest.mark.local_only, pytest.mark.timeout(300)]

PROVIDER_SECONDS = 33  # past API Gateway's 30 s integration limit, which the sync entry does not have
README = Path(__file__).resolve().parents[2] / "README.md"
README_SYNC_URL = "http://127.0.0.1:3001"


@pytest.fixture(scope="module")
def slow_stack(tmp_path_factory) -> Iterator[LoopbackStack]:
    log_path = tmp_path_factory.mktemp("sync") / "stack.log"
    with LoopbackStack(port=0, provider_delay=PROVIDER_SECONDS, quiet=True, log_path=log_path,
                    parameter_overrides={"ProviderTimeoutSeconds": "120"}) as stack:
        yield stack


def readme_sdk_snippet() -> str:
    """The README's SDK example, verbatim (the first python block that uses the synchronous entry)."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    [snippet] = [block for block in blocks if README_SYNC_URL in block and "images.edit" in block]
    return snippet


def write_inputs(folder: Path) -> None:
    for name, colour in (("a.png", (200, 40, 40)), ("b.png", (40, 40, 200))):
        buffer = io.BytesIO()
        Image.new("RGB", (256, 256), colour).save(buffer, format="PNG")
        (folder / name).write_bytes(buffer.getvalue())


def test_the_readme_snippet_gets_its_image_through_the_sync_entry_and_a_202_through_api_gateway(
        slow_stack: LoopbackStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    stack = slow_stack
    write_inputs(tmp_path)
    monkeypatch.chdir(tmp_path)
    snippet = readme_sdk_snippet().replace(README_SYNC_URL, stack.function_urls["SyncFunction"])
    through_gateway: dict[str, object] = {}

    def via_api_gateway() -> None:
        # The same call through API Gateway, asking to wait as long as it may
        client = openai.OpenAI(base_url=f"{stack.base_url}/v1", api_key=stack.api_key, max_retries=0,
                               default_headers={"Prefer": "wait=300"})
        started = time.monotonic()
        with open("a.png", "rb") as image:
            raw = client.images.with_raw_response.edit(model="gpt-image-2", image=[image], prompt="through apigw")
        through_gateway.update(seconds=time.monotonic() - started, status=raw.status_code, data=raw.parse().data,
                               location=raw.headers.get("location"))

    other = threading.Thread(target=via_api_gateway)
    other.start()
    # When the README's snippet runs, exactly as written but for the local URL and key
    started = time.monotonic()
    namespace: dict[str, object] = {"KEY": stack.api_key}
    exec(compile(snippet, "README.md", "exec"), namespace)  # noqa: S102 - the README's own example
    waited = time.monotonic() - started
    other.join(120)

    # Then it got the image after the provider's 33 s, in one call, inline as OpenAI answers it
    result = namespace["result"]
    assert result.data and result.data[0].b64_json and (tmp_path / "out.png").read_bytes().startswith(b"\x89PNG")
    assert waited >= PROVIDER_SECONDS
    # And through API Gateway the call came back as a 202 job after its 25 s wait, within API Gateway's 30 s limit (the
    # local gateway answers 504 past it), with nothing in data
    assert through_gateway["status"] == 202 and through_gateway["seconds"] < 30
    assert through_gateway["data"] == [] and str(through_gateway["location"]).startswith("/v1/jobs/job_")


def test_the_sync_entry_checks_the_key_itself(slow_stack: LoopbackStack):
    # The Function URL has no authorizer: an unknown key is the API's own OpenAI-shaped 401, nothing submitted
    client = openai.OpenAI(base_url=f"{slow_stack.function_urls['SyncFunction']}/v1", api_key="rt_not_a_key",
                           max_retries=0)
    with pytest.raises(openai.AuthenticationError) as refused:
        client.images.generate(model="gpt-image-2", prompt="nope")
    assert refused.value.status_code == 401 and refused.value.body["code"] == "invalid_api_key"
