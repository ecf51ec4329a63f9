"""local.aws.dispatch_cache: moto's server finds a host name's service once, and finds the same one moto finds."""

from __future__ import annotations

from typing import Any

import pytest
from moto import backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

from local.aws import dispatch_cache


@pytest.fixture()
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each time moto lists its service modules (its lookup's first, costly step), whatever the host name."""
    seen: list[str] = []
    listing = backends.list_of_moto_modules

    def counted() -> Any:
        seen.append("listed")
        return listing()

    monkeypatch.setattr(backends, "list_of_moto_modules", counted)
    return seen


def test_a_host_name_is_looked_up_once_and_served_by_the_backend_moto_finds(lookups: list[str]):
    # Given moto's dispatcher with the cache installed
    dispatch_cache.install()
    dispatcher = DomainDispatcherApplication(create_app=lambda backend: None)  # type: ignore[arg-type,return-value]
    # When the same host names are dispatched again and again
    first = [dispatcher.get_backend_for_host(host) for host in ("dynamodb.us-east-1.amazonaws.com",
                                                                  "sqs.us-east-1.amazonaws.com")]
    again = [dispatcher.get_backend_for_host(host) for host in ("dynamodb.us-east-1.amazonaws.com",
                                                                  "sqs.us-east-1.amazonaws.com")] * 5
    # Then each is served by its own service, looked up once only
    assert first == ["dynamodb", "sqs"] and again == first * 5
    assert len(lookups) <= 2


def test_a_host_name_no_backend_serves_is_looked_up_each_time(lookups: list[str]):
    dispatch_cache.install()
    dispatcher = DomainDispatcherApplication(create_app=lambda backend: None)  # type: ignore[arg-type,return-value]
    answers = [dispatcher.get_backend_for_host("nothing.example") for _ in range(3)]
    assert answers == [None, None, None]
    assert len(lookups) == 3
    assert dispatcher.get_backend_for_host(None) is None
