"""The upstream contract shared by every adapter: refusal before any call, error classes, cost, polling."""

from __future__ import annotations

import httpx
import pytest

from retouch.jobs.upstream_calls import health
from retouch.providers.base import ProviderAuthFailed, ProviderRefused, ProviderUnavailable
from retouch.providers.upstream import PollHandle, usd_to_micros
from retouch.providers.upstream_http import UpstreamHttp, refusal_or_failure
from tests.unit.providers.replay import answering


def http_answering(status: int, body: object = None, headers: dict[str, str] | None = None) -> UpstreamHttp:
    return UpstreamHttp("example", timeout_seconds=5, client=answering(status, body, headers), secrets=["sk-secret"])


def classify(status: int, body: object = None, headers: dict[str, str] | None = None) -> Exception:
    http = http_answering(status, body, headers)
    with pytest.raises((ProviderRefused, ProviderUnavailable)) as raised:
        http.ok(http.send("POST", "https://upstream.test/edit"))
    return raised.value


@pytest.mark.parametrize("status", [401, 403])
def test_credentials_rejected_are_provider_auth_failed(status: int) -> None:
    error = classify(status, {"error": {"message": "Incorrect API key provided: sk-secret"}})
    assert isinstance(error, ProviderAuthFailed)
    assert error.code == "provider_auth_failed"
    assert "sk-secret" not in error.message


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_overload_and_server_errors_are_retryable(status: int) -> None:
    error = classify(status, headers={"Retry-After": "7"})
    assert type(error) is ProviderUnavailable
    assert error.retry_after == 7.0
    assert error.code == {408: "provider_retry_later", 429: "provider_rate_limited"}.get(status, "provider_error")


def test_invalid_input_is_refused_with_the_upstream_code_and_secrets_redacted() -> None:
    error = classify(400, {"error": {"code": "moderation_blocked", "message": "blocked for key sk-secret"}})
    assert type(error) is ProviderRefused
    assert error.code == "moderation_blocked"
    assert "***" in error.message and "sk-secret" not in error.message


def test_a_timeout_is_retryable() -> None:
    def stall(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("stalled", request=request)

    http = UpstreamHttp("example", timeout_seconds=5, client=httpx.Client(transport=httpx.MockTransport(stall)))
    with pytest.raises(ProviderUnavailable) as raised:
        http.send("GET", "https://upstream.test/status")
    assert raised.value.code == "provider_timeout"


@pytest.mark.parametrize(("message", "refused"), [
    ("Request blocked by the safety system", True),
    ("NSFW content detected", True),
    ("runner crashed", False),
])
def test_job_failures_are_refusals_only_when_they_say_safety(message: str, refused: bool) -> None:
    error = refusal_or_failure("oxen", message)
    assert isinstance(error, ProviderRefused) is refused
    assert isinstance(error, ProviderUnavailable) is not refused


@pytest.mark.parametrize(("amount", "micros"), [
    (0.095225, 95_225), (0.0536705, 53_671), ("0.08", 80_000), (0, 0), (-1, None), ("n/a", None), (True, None),
    (None, None),
])
def test_reported_cost_in_micro_dollars(amount: object, micros: int | None) -> None:
    assert usd_to_micros(amount) == micros


def test_poll_handle_survives_json_for_a_delayed_message() -> None:
    handle = PollHandle(upstream="fal", upstream_job_id="r1", status_url="https://q/s", result_url="https://q/r",
                        submitted_at=1_777_000_000.5, poll_after_seconds=5, output_format="webp",
                        extra={"size": "1024x1024"})
    assert PollHandle.from_json(handle.to_json()) == handle


@pytest.mark.parametrize("status", [408, 409, 425])
def test_an_upstream_that_answered_408_409_or_425_is_up_for_its_breaker(status: int) -> None:
    # Given an upstream answering a request timeout, a conflict or "too early" (issue #24, item 7)
    error = classify(status)
    # Then the job retries it, but its breaker does not count it as an outage (it answered)
    assert isinstance(error, ProviderUnavailable)
    assert error.code == "provider_retry_later"
    assert health(error) is True
