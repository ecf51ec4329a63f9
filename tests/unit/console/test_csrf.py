"""CSRF (retouch/console/csrf.py): unsafe requests need the session's token and the console's own Origin."""

from __future__ import annotations

import pytest

from retouch.console.csrf import csrf_refusal, same_origin
from retouch.models.console import ConsoleSessionRecord

OWN = "https://console.example.com"
TOKEN = "t" * 43
SESSION = ConsoleSessionRecord(session_hash="a" * 64, account_id="acct_abcdefghij0123456789", user_sub="sub",
                               email="ada@example.com", role="member", csrf_token=TOKEN, created_at=1, last_seen_at=1,
                               expires_at=2)


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "get"])
def test_safe_methods_need_nothing(method: str) -> None:
    assert csrf_refusal(method, {}, SESSION, OWN) is None


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_an_unsafe_request_with_the_token_from_the_console_passes(method: str) -> None:
    assert csrf_refusal(method, {"origin": OWN, "x-csrf-token": TOKEN}, SESSION, OWN) is None


@pytest.mark.parametrize(("headers", "why"), [
    ({"x-csrf-token": TOKEN}, "Origin"),  # no Origin at all
    ({"origin": "https://evil.example", "x-csrf-token": TOKEN}, "Origin"),
    ({"origin": "http://console.example.com", "x-csrf-token": TOKEN}, "Origin"),  # another scheme
    ({"origin": "https://console.example.com:8443", "x-csrf-token": TOKEN}, "Origin"),  # another port
    ({"origin": "null", "x-csrf-token": TOKEN}, "Origin"),
    ({"origin": OWN}, "X-CSRF-Token"),  # no token
    ({"origin": OWN, "x-csrf-token": TOKEN[:-1] + "u"}, "X-CSRF-Token"),
    ({"origin": OWN, "x-csrf-token": ""}, "X-CSRF-Token"),
])
def test_an_unsafe_request_without_the_token_or_from_elsewhere_is_refused(headers: dict[str, str], why: str) -> None:
    refusal = csrf_refusal("POST", headers, SESSION, OWN)
    assert refusal is not None and why in refusal


def test_without_a_session_only_the_origin_is_checked() -> None:
    # sign-up and sign-in have no session yet; a private route without one is the caller check's 401
    assert csrf_refusal("POST", {"origin": OWN}, None, OWN) is None
    assert csrf_refusal("POST", {"origin": "https://evil.example"}, None, OWN) is not None


def test_origins_compare_by_scheme_host_and_port_without_case() -> None:
    assert same_origin("HTTPS://Console.Example.com", OWN)
    assert same_origin("http://127.0.0.1:3000", "http://127.0.0.1:3000")
    assert not same_origin("http://127.0.0.1:3001", "http://127.0.0.1:3000")
    assert not same_origin("https://console.example.com/path", OWN)
