"""One local stack (moto, functions from template.yaml, gateway, pollers, stand-in provider) per test session, or
a deployed one.

The local stack's DynamoDB runs with its default transaction hold (local.aws.dynamodb_contention): overlapping writes
conflict as they do in AWS.

Remote mode: with RETOUCH_BASE_URL (and RETOUCH_API_KEY, a key with credit; RETOUCH_SYNC_URL for the sync entry's
Function URL) the tier runs against that stack instead, and skips the tests marked `local_only`, which need local
internals (moto clients, the admin CLI on moto, the stand-in provider's faults and call log, private stacks).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from PIL import Image

from local.stack import LoopbackStack

pytestmark = pytest.mark.e2e

# Short retry backoff and Prefer-wait as in AWS so the suite runs in seconds; loopback allowlisted (any
# port) for the tests' own image and webhook servers, and for the closed port the fuzzer's URLs point at.
# Routing: gpt-image-2 to the OpenAI stand-in first, then every other upstream's stand-in (reached only when a prompt's
# faults fail the earlier ones: tests/e2e/test_upstreams_through_retouch.py); gpt-image-1.5 and gpt-image-1-mini each
# to two entries on the OpenAI stand-in, for the fallback and circuit-breaker tests. Asynchronous upstreams are polled
# a second after they queue a job.
ROUTING_DOCUMENT = Path(__file__).resolve().parents[1] / "fixtures" / "routing" / "e2e.json"
STACK_PARAMETERS = {
    "ProviderRetryBaseSeconds": "1",
    "MaxWaitSeconds": "25",
    "UrlAllowlist": "127.0.0.1,localhost",
    "ProviderTimeoutSeconds": "10",
    "RoutingDocument": str(ROUTING_DOCUMENT),
    "UpstreamPollDelayMaxSeconds": "1",
    # test_webhooks: four attempts a second apart, each bounded at 2 s (so a dead-lettered event takes seconds).
    "WebhookRetrySchedule": "1,1,1",
    "WebhookTimeoutSeconds": "2",
    # Every e2e client is 127.0.0.1: the console's per-address limit would count the whole tier as one visitor
    # (the limits themselves: tests/integration/console/test_console_function.py).
    "ConsoleAuthAttemptsPerAddress": "10000",
}


REMOTE_BASE_URL = os.environ.get("RETOUCH_BASE_URL", "").rstrip("/")


@dataclass(frozen=True)
class RemoteStack:
    """A deployed stack as the tests see it: its URL and a key, nothing of its insides."""

    base_url: str
    api_key: str
    function_urls: dict[str, str] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"stack.{name} needs the local stack: mark the test `local_only`")

    @classmethod
    def from_environment(cls) -> RemoteStack:
        api_key = os.environ.get("RETOUCH_API_KEY")
        if not api_key:
            raise pytest.UsageError("RETOUCH_BASE_URL is set: RETOUCH_API_KEY must name a key of that stack")
        sync_url = os.environ.get("RETOUCH_SYNC_URL")
        return cls(REMOTE_BASE_URL, api_key, {"SyncFunction": sync_url.rstrip("/")} if sync_url else {})


# `make test` hands the tier's modules to its two pytest-xdist workers one at a time, in collection order
# (--dist loadfile --no-loadscope-reorder): the longest first, so the run does not end with one worker alone on a
# two-minute module while the other has finished. Measured under `make test` (call + setup, seconds, December 2026).
LONGEST_MODULES_FIRST = (
    "test_openapi_fuzz.py",  # about 130: over a thousand generated requests
    "test_fault_run.py",  # about 120: its own stack, 160 jobs with faults and kills
    "test_end_users.py",  # about 70: an erasure of 1,000 jobs
    "test_sync_entry.py",  # about 50, mostly idle (a 33 s provider): overlaps the other worker's CPU-bound module
    "test_interrupted_submit.py",  # about 40: its own stack
    "test_webhooks.py",
    "test_payments.py",
)
# Not here: test_console_browser.py (about 40 s). Started while the fuzzer or the erasure ran beside it on a loaded
# machine, a page of it stayed "Loading…" past Playwright's 20 s; in collection order it starts later.


def _longest_first(item: pytest.Item) -> int:
    name = item.path.name
    return LONGEST_MODULES_FIRST.index(name) if name in LONGEST_MODULES_FIRST else len(LONGEST_MODULES_FIRST)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=_longest_first)  # stable: each module's tests keep their order
    if not REMOTE_BASE_URL:
        return
    skip = pytest.mark.skip(reason=f"local_only: needs the local stack's internals (remote mode: {REMOTE_BASE_URL})")
    for item in items:
        if "local_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Iterator[LoopbackStack | RemoteStack]:
    if REMOTE_BASE_URL:
        yield RemoteStack.from_environment()
        return
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
