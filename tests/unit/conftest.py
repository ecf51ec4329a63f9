"""Unit tier: no network. Any socket other than AF_UNIX fails the test loudly."""

from __future__ import annotations

import socket

import pytest

_ALLOWED_FAMILIES = {getattr(socket, "AF_UNIX", None)} - {None}


class NetworkUsedInUnitTest(AssertionError):
    pass


def _refuse(what: str) -> NetworkUsedInUnitTest:
    return NetworkUsedInUnitTest(f"unit tests must not use the network ({what}); use a fake or move the test "
                                 "to tests/integration")


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    real_socket = socket.socket

    class GuardedSocket(real_socket):  # type: ignore[misc, valid-type]
        def __init__(self, family: int = -1, type: int = -1, proto: int = -1, fileno: int | None = None) -> None:
            # family -1 means AF_INET; a socket wrapping an existing descriptor is not a new connection.
            if fileno is None and family not in _ALLOWED_FAMILIES:
                raise _refuse(f"socket family {family}")
            super().__init__(family, type, proto, fileno)

    def connect(self: socket.socket, address: object) -> None:
        if self.family not in _ALLOWED_FAMILIES:
            raise _refuse(f"connect to {address!r}")
        return real_socket.connect(self, address)

    def connect_ex(self: socket.socket, address: object) -> int:
        if self.family not in _ALLOWED_FAMILIES:
            raise _refuse(f"connect_ex to {address!r}")
        return real_socket.connect_ex(self, address)

    def create_connection(address: object, *args: object, **kwargs: object) -> socket.socket:
        raise _refuse(f"create_connection to {address!r}")

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> list:
        raise _refuse(f"getaddrinfo for {host!r}")

    monkeypatch.setattr(socket, "socket", GuardedSocket)
    monkeypatch.setattr(real_socket, "connect", connect)
    monkeypatch.setattr(real_socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture(autouse=True)
def _metrics_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every function has POWERTOOLS_METRICS_NAMESPACE in template.yaml; domain code emitting metrics expects it."""
    from retouch.observability.metric_names import DEFAULT_NAMESPACE

    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", DEFAULT_NAMESPACE)
