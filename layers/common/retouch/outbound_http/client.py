"""Outbound HTTP that a hostile or broken server can neither hold nor inflate (image URLs, webhooks, the provider).

- **One deadline per call.** `call_deadline(seconds)` covers DNS, connect, TLS, every write and read, headers
  and body. Each socket operation of an `outbound_client()` gets at most the time left, and a watchdog shuts
  the call's sockets down when the deadline passes, so neither a header dripped a byte at a time nor a
  stalled TLS handshake outlasts it.
- **Identity bodies only.** Requests say `Accept-Encoding: identity`; `read_body` refuses a response that
  declares any other Content-Encoding before reading it (a few KB of stacked gzip decode to gigabytes), and
  counts the raw bytes as they arrive against the cap.
- **No connection reuse.** A kept-alive connection pinned to one vetted address could be picked up for
  another host name that resolves to the same address, with the first host's TLS session.

httpx has no public hook for httpcore's network backend, so `outbound_client` builds httpx's transport over a
connection pool of its own; everything above the socket is httpx as usual.
"""

from __future__ import annotations

import contextvars
import ipaddress
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, BinaryIO

import httpcore
import httpx

from retouch.outbound_http.url_safety import resolve_within

IDENTITY_HEADERS = {"Accept-Encoding": "identity"}

_current: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("retouch_outbound_deadline", default=None)


class Deadline:
    """The end of one outbound call, and the sockets to shut down when it comes."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._at = time.monotonic() + seconds
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._expired = False

    def remaining(self) -> float:
        return self._at - time.monotonic()

    @property
    def passed(self) -> bool:
        return self._expired or self.remaining() <= 0

    def bound(self, timeout: float | None, timeout_error: type[Exception]) -> float:
        """`timeout` capped at the time left; `timeout_error` when none is left."""
        left = self.remaining()
        if self._expired or left <= 0:
            raise timeout_error("the call's deadline has passed")
        return left if timeout is None else min(timeout, left)

    def watch(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            self._sockets.append(sock)
            expired = self._expired
        if expired:
            _shut(sock)

    def expire(self) -> None:
        """The watchdog: a blocked recv/send/handshake on any of the call's sockets returns at once."""
        with self._lock:
            self._expired = True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    # The plain socket's shutdown, also for an SSLSocket (whose own shutdown unwraps TLS first); OSError: closed.
    with suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class DeadlineExceeded(httpx.TimeoutException):
    """The call's deadline passed (raised where no socket operation noticed first, e.g. between chunks)."""


@contextmanager
def call_deadline(seconds: float) -> Iterator[Deadline]:
    """Every outbound operation in this block (this thread) ends within `seconds` from now."""
    deadline = Deadline(seconds)
    token = _current.set(deadline)
    watchdog = threading.Timer(max(seconds, 0.0), deadline.expire)
    watchdog.daemon = True
    watchdog.start()
    try:
        yield deadline
    finally:
        watchdog.cancel()
        _current.reset(token)


def current_deadline() -> Deadline:
    deadline = _current.get()
    if deadline is None:
        raise RuntimeError("outbound HTTP needs a deadline: wrap the call in call_deadline(seconds)")
    return deadline


# -- Bodies -----------------------------------------------------------------------------------------------------


class RefusedBody(Exception):
    """The response body may not be read: an encoding we did not ask for, or more bytes than allowed."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason  # "encoding" or "too_large"
        self.message = message


def _checked_chunks(response: httpx.Response, max_bytes: int) -> Iterator[bytes]:
    """The raw body of a streamed response, chunk by chunk: identity only, at most `max_bytes`, within the call's
    deadline."""
    encoding = response.headers.get("content-encoding", "").strip().lower()
    if encoding not in ("", "identity"):
        raise RefusedBody("encoding", f"the response is {encoding}-encoded, but only identity was accepted")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise RefusedBody("too_large", f"the response is larger than {max_bytes} bytes")
    deadline = current_deadline()
    # Raw: nothing is decoded, so each chunk is what the network carried. (A response built in memory, as
    # httpx.MockTransport's are, has its bytes already.)
    chunks = [response.content] if response.is_stream_consumed else response.iter_raw()
    received = 0
    for chunk in chunks:
        received += len(chunk)
        if received > max_bytes:
            raise RefusedBody("too_large", f"the response is larger than {max_bytes} bytes")
        if deadline.passed:
            raise DeadlineExceeded("the response did not finish in time")
        yield chunk


def read_body(response: httpx.Response, *, max_bytes: int) -> bytes:
    """The raw body of a streamed response: identity only, at most `max_bytes`, within the call's deadline."""
    return b"".join(_checked_chunks(response, max_bytes))


def spool_body(response: httpx.Response, into: BinaryIO, *, max_bytes: int) -> int:
    """`read_body` written to `into` as it arrives (memory stays at one chunk); the bytes written."""
    written = 0
    for chunk in _checked_chunks(response, max_bytes):
        written += into.write(chunk)
    return written


# -- Sockets ----------------------------------------------------------------------------------------------------


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, deadline: Deadline) -> None:
        self._inner = inner
        self._deadline = deadline
        deadline.watch(inner.get_extra_info("socket"))

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._deadline.bound(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._deadline.bound(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(ssl_context, server_hostname,
                                      self._deadline.bound(timeout, httpcore.ConnectTimeout))
        return _DeadlineStream(inner, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's sync sockets, each operation bounded by the current call's deadline; DNS too."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        deadline = current_deadline()
        failure: Exception | None = None
        for address in self._addresses(host, port, deadline):
            try:
                stream = self._inner.connect_tcp(address, port, deadline.bound(timeout, httpcore.ConnectTimeout),
                                                 local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
                continue
            return _DeadlineStream(stream, deadline)
        raise failure or httpcore.ConnectError(f"{host} has no address")

    @staticmethod
    def _addresses(host: str, port: int, deadline: Deadline) -> list[str]:
        try:
            ipaddress.ip_address(host)
            return [host]  # a vetted, pinned address: nothing to resolve
        except ValueError:
            pass
        try:
            infos = resolve_within(deadline.bound(None, httpcore.ConnectTimeout))(host, port)
        except OSError as exc:
            raise httpcore.ConnectError(f"could not resolve {host}") from exc
        return list(dict.fromkeys(str(info[4][0]) for info in infos))

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class _DeadlineTransport(httpx.HTTPTransport):
    def __init__(self, verify: bool = True) -> None:
        super().__init__(verify=verify, trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_keepalive_connections=0,
            network_backend=_DeadlineBackend(),
        )


def outbound_client() -> httpx.Client:
    """An httpx client for calls made inside `call_deadline`: bounded sockets, no proxies from the environment,
    no redirects followed, no connection reuse. No per-operation timeout: the call's deadline is the bound."""
    return httpx.Client(transport=_DeadlineTransport(), trust_env=False, follow_redirects=False, timeout=None)  # noqa: S113


def iter_body(response: httpx.Response, *, max_bytes: int) -> Iterator[bytes]:
    """A streamed response's body as it arrives (an event stream read event by event), under the same rules as
    `read_body`: identity only, at most `max_bytes`, within the call's deadline."""
    return _checked_chunks(response, max_bytes)
