"""Schemathesis fuzzes the running stack from the stack's own /openapi.json: generated requests (valid and
invalid) with a real key must never get a 5xx, and every answer must match what the document says (status code,
content type, body schema). Bounded: a fixed number of examples per operation, at least 1,000 requests in all.

No request may leave the machine: generated webhook and image URLs are pointed at a closed loopback port
(allowlisted in the e2e stack) before they are sent, so nothing resolves or contacts a generated host name.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.operator import admin

# local_only: its account is opened with the admin CLI on moto, and loopback is allowlisted
pytestmark = [pytest.mark.e2e, pytest.mark.local_only]

# 30 of each of its 35 operations (1,053 requests with the three that take one): 40 sent 1,403, a third longer
# under `make test` (about 30 s) for no operation more.
EXAMPLES_PER_OPERATION = 30
MINIMUM_REQUESTS = 1000
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
NOWHERE = "http://127.0.0.1:9/nowhere.png"  # the discard port: closed, so a fetch or delivery fails at once
_URL_FIELDS = ("webhook_url", "image_url")
_FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding", "host", "connection"})


@pytest.fixture(scope="module")
def fuzz_key(stack) -> str:
    """A key of an account with credit for a few cheap jobs and limits that let the fuzzer through, so most
    generated submissions are judged on their content (valid ones end in 402 once the credit is spent)."""
    account = admin(stack, "create-account", "--name", "schemathesis", "--credit", "0.05", "--max-in-flight", "1000",
                    "--rpm", "100000")
    return admin(stack, "create-key", account["account_id"])["api_key"]


def _no_outside_urls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: NOWHERE if k in _URL_FIELDS and isinstance(v, str) and not v.startswith("data:")
                else _no_outside_urls(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_outside_urls(item) for item in value]
    return value


def test_generated_requests_get_no_5xx_and_documented_answers(stack, fuzz_key):
    # Given the stack's own OpenAPI document (Swagger UI's static script and styles left out: not API)
    schema = schemathesis.openapi.from_url(f"{stack.base_url}/openapi.json").exclude(path_regex=r"^/docs/")
    operations = [result.ok() for result in schema.get_all_operations()]
    headers = {"Authorization": f"Bearer {fuzz_key}"}
    sent: dict[str, int] = {}
    started = time.monotonic()

    with requests.Session() as session:
        session.trust_env = False  # never a proxy from the environment
        for operation in operations:
            # When valid and invalid requests are generated for each operation and sent with a real key
            generated = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(GenerationMode.NEGATIVE)

            @given(case=generated)
            @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck), phases=[Phase.generate])
            def answers_as_documented(case: Any) -> None:
                case.body = _no_outside_urls(case.body)  # generated URLs stay on loopback
                # Framing is the HTTP client's, not the API's: a generated Content-Length that is not a number is
                # refused by API Gateway before any route (its own 400 {"message": "Bad Request"}, as the local
                # gateway answers too), which no API document describes.
                case.headers = {name: value for name, value in (case.headers or {}).items()
                                if name.lower() not in _FRAMING_HEADERS}
                sent[case.operation.label] = sent.get(case.operation.label, 0) + 1
                # Then no 5xx, and the status, content type and body are the documented ones
                case.call_and_validate(session=session, headers=headers, checks=CHECKS, timeout=60)

            answers_as_documented()

    total, elapsed = sum(sent.values()), time.monotonic() - started
    print(f"\nschemathesis: {total} generated requests in {elapsed:.1f} s "
          f"({', '.join(f'{label}: {count}' for label, count in sent.items())})")
    # and the run was big enough to mean something, every operation of the document among it
    assert total >= MINIMUM_REQUESTS
    assert sorted(sent) == sorted(operation.label for operation in operations)
