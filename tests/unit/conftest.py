"""Unit tier: no network. pytest-socket refuses every socket but AF_UNIX (a socketpair stands in for a
connection in some tests) and every name lookup; integration and e2e keep loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_socket import disable_socket, enable_socket


@pytest.fixture(autouse=True)
def _no_network() -> Iterator[None]:
    disable_socket(allow_unix_socket=True)
    yield
    enable_socket()


@pytest.fixture(autouse=True)
def _metrics_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every function has POWERTOOLS_METRICS_NAMESPACE in template.yaml; domain code emitting metrics expects it."""
    from retouch.observability.metric_names import DEFAULT_NAMESPACE

    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", DEFAULT_NAMESPACE)
