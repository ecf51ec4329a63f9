"""One local stack (moto, functions from template.yaml, gateway, pollers, stand-in provider) per test session."""

from __future__ import annotations

import io
from collections.abc import Iterator

import boto3
import httpx
import pytest
from PIL import Image

from local.stack import LoopbackStack

pytestmark = pytest.mark.e2e

# Short retry backoff and Prefer-wait as in AWS so the suite runs in seconds; loopback allowlisted (any
# port) for the tests' own image and webhook servers, and for the closed port the fuzzer's URLs point at.
STACK_PARAMETERS = {
    "ProviderRetryBaseSeconds": "1",
    "MaxWaitSeconds": "25",
    "UrlAllowlist": "127.0.0.1,localhost",
    "ProviderTimeoutSeconds": "10",
}


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Iterator[LoopbackStack]:
    log_path = tmp_path_factory.mktemp("stack") / "stack.log"
    with LoopbackStack(port=0, provider_delay=0.05, parameter_overrides=STACK_PARAMETERS, quiet=True,
                    log_path=log_path) as running:
        yield running


@pytest.fixture()
def http(stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.base_url, headers={"Authorization": f"Bearer {stack.api_key}"},
                      timeout=90) as client:
        yield client


@pytest.fixture(scope="session")
def aws(stack):
    """boto3 clients on the stack's moto server (what an operator's tooling would use)."""
    def client(service: str):
        return boto3.client(service, endpoint_url=stack.aws_endpoint_url, region_name="us-east-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing")
    return client


def png_bytes(size: tuple[int, int], color: tuple[int, ...] = (180, 90, 40), mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, format="PNG")
    return buffer.getvalue()
