"""The unit tier's guard (pytest-socket, switched on in tests/unit/conftest.py): network use fails loudly,
local IPC does not."""

from __future__ import annotations

import socket

import boto3
import httpx
import pytest
from pytest_socket import SocketBlockedError

# pytest-socket also warns on each refusal (so a test that swallows the error still shows); here it is expected.
pytestmark = pytest.mark.filterwarnings("ignore:A test tried to use socket")


def test_inet_socket_is_refused() -> None:
    # Given the unit tier
    # When a TCP socket is opened
    # Then the test fails loudly
    with pytest.raises(SocketBlockedError, match="tried to use socket"):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)


def test_name_resolution_is_refused() -> None:
    with pytest.raises(SocketBlockedError, match="tried to use socket"):
        socket.getaddrinfo("example.com", 443)


def test_loopback_is_refused_too() -> None:
    # Given the unit tier (integration and e2e use loopback; unit tests use fakes)
    # When an HTTP client calls a loopback address
    # Then the test fails loudly
    with pytest.raises(SocketBlockedError, match="tried to use socket"), httpx.Client() as client:
        client.get("http://127.0.0.1:9/")


def test_unix_socket_pair_still_works() -> None:
    # Given the unit tier
    # When a local socket pair is used
    left, right = socket.socketpair()
    with left, right:
        left.sendall(b"ping")

        # Then it works
        assert right.recv(4) == b"ping"


def test_an_aws_call_cannot_escape() -> None:
    # Given a real boto3 client (which a unit test should never build)
    client = boto3.client("sqs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")

    # When it calls AWS
    # Then it fails instead of reaching the network (botocore wraps the refusal in its own error)
    with pytest.raises(Exception, match="tried to use socket"):
        client.list_queues()
