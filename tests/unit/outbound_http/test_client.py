"""outbound: the call deadline's watchdog and bounds, and the identity-only capped body (no network: a local
socket pair stands in for a connection, httpx.MockTransport for a server)."""

from __future__ import annotations

import socket
import threading

import httpcore
import httpx
import pytest

from retouch.outbound_http.client import Deadline, RefusedBody, call_deadline, current_deadline, read_body


def test_the_watchdog_wakes_a_read_blocked_on_the_calls_socket() -> None:
    # Given a socket whose peer never sends, watched by a deadline, and a reader blocked on it
    ours, theirs = socket.socketpair()
    deadline = Deadline(3600)
    deadline.watch(ours)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(ours.recv(1)))
    with ours, theirs:
        reader.start()

        # When the deadline expires
        deadline.expire()
        reader.join(timeout=30)

        # Then the blocked read returns at once, empty (the socket was shut down)
        assert not reader.is_alive() and got == [b""]
        assert deadline.passed


def test_a_socket_watched_after_expiry_is_shut_at_once() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        deadline = Deadline(3600)
        deadline.expire()
        deadline.watch(ours)
        assert ours.recv(1) == b""


def test_each_operation_gets_at_most_the_time_left() -> None:
    deadline = Deadline(5)
    assert deadline.bound(None, httpcore.ReadTimeout) <= 5
    assert deadline.bound(0.25, httpcore.ReadTimeout) == 0.25
    deadline.expire()
    with pytest.raises(httpcore.ReadTimeout):
        deadline.bound(10, httpcore.ReadTimeout)


def test_outbound_calls_need_a_deadline() -> None:
    with pytest.raises(RuntimeError, match="call_deadline"):
        current_deadline()
    with call_deadline(1) as deadline:
        assert current_deadline() is deadline
    with pytest.raises(RuntimeError):
        current_deadline()


def _streamed(headers: dict[str, str], chunks: list[bytes]) -> httpx.Response:
    def stream():
        yield from chunks

    client = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200, headers=headers,
                                                                                         content=stream())))
    return client.send(client.build_request("GET", "https://example.com/"), stream=True)


def test_read_body_counts_raw_bytes_against_the_cap_as_they_arrive() -> None:
    with call_deadline(5):
        assert read_body(_streamed({}, [b"a" * 10, b"b" * 10]), max_bytes=20) == b"a" * 10 + b"b" * 10
        with pytest.raises(RefusedBody) as refused:
            read_body(_streamed({}, [b"a" * 10, b"b" * 11]), max_bytes=20)
    assert refused.value.reason == "too_large"


def test_read_body_refuses_an_encoding_it_did_not_ask_for() -> None:
    with call_deadline(5), pytest.raises(RefusedBody) as refused:
        read_body(_streamed({"Content-Encoding": "gzip"}, [b"\x1f\x8b"]), max_bytes=1024)
    assert refused.value.reason == "encoding"
