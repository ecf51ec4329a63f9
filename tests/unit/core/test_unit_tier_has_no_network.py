"""The unit tier's guard (tests/unit/conftest.py): network use fails loudly, local IPC does not."""

from __future__ import annotations

import socket

import boto3
import pytest


def test_inet_socket_is_refused() -> None:
    # Given the unit tier
    # When a TCP socket is opened
    # Then the test fails loudly
    with pytest.raises(AssertionError, match="must not use the network"):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)


def test_name_resolution_is_refused() -> None:
    with pytest.raises(AssertionError, match="must not use the network"):
        socket.getaddrinfo("example.com", 443)


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
    # Then it fails instead of reaching the network
    with pytest.raises(Exception, match="must not use the network"):
        client.list_queues()
