"""Hostile HTTP servers on 127.0.0.1 for the outbound-call tests: each connection gets a scripted misbehaviour
(a decompression bomb, a header or TLS handshake dripped a byte at a time, an endless body)."""

from __future__ import annotations

import gzip
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache

DRIP_INTERVAL_SECONDS = 0.5
# A dripping server gives up after this long on its own, so a broken client cannot hang the suite.
GIVE_UP_SECONDS = 60.0


@cache
def gzip_bomb(inflated_mb: int = 512, layers: int = 2) -> bytes:
    """`inflated_mb` MB of zeros, gzipped `layers` times over: a couple of KB on the wire."""
    data = b"\0" * (1024 * 1024)
    compressor = gzip.compress  # level 9 by default
    blob = b"".join(_gzip_stream(data, inflated_mb))
    for _ in range(layers - 1):
        blob = compressor(blob)
    return blob


def _gzip_stream(chunk: bytes, times: int) -> Iterator[bytes]:
    import zlib

    z = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip container
    for _ in range(times):
        yield z.compress(chunk)
    yield z.flush()


@dataclass
class Connection:
    sock: socket.socket
    request: bytes = b""

    def send(self, data: bytes) -> bool:
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def drip(self, data: bytes, interval: float = DRIP_INTERVAL_SECONDS) -> None:
        """Send `data` one byte per `interval`, then keep dripping spaces, until the client hangs up."""
        started = time.monotonic()
        stream = iter(data)
        while time.monotonic() - started < GIVE_UP_SECONDS:
            byte = next(stream, 0x20)
            if not self.send(bytes([byte])):
                return
            time.sleep(interval)


@dataclass
class HostileServer:
    behaviour: Callable[[Connection], None]
    connections: list[Connection] = field(default_factory=list)
    closed_at: list[float] = field(default_factory=list)  # when each connection ended (client hung up or done)

    def __post_init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    def url(self, path: str = "/image.png", scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(sock,), daemon=True).start()

    def _handle(self, sock: socket.socket) -> None:
        connection = Connection(sock)
        self.connections.append(connection)
        try:
            self.behaviour(connection)
        finally:
            self.closed_at.append(time.monotonic())
            sock.close()

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._listener.close()


def read_request(connection: Connection) -> bytes:
    """The request head (and whatever body came with it)."""
    connection.sock.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.sock.recv(65536)
        if not chunk:
            break
        data += chunk
    connection.request = data
    return data


def answer_with(head: bytes, body: bytes = b"") -> Callable[[Connection], None]:
    def behaviour(connection: Connection) -> None:
        read_request(connection)
        connection.send(head + body)
        time.sleep(0.2)  # let the client read before the close

    return behaviour


def gzip_bomb_response(encoding: str = "gzip, gzip") -> Callable[[Connection], None]:
    body = gzip_bomb()
    head = (f"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Encoding: {encoding}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    return answer_with(head, body)


def header_drip(status_line: bytes = b"HTTP/1.1 200 OK\r\n") -> Callable[[Connection], None]:
    """The status line at once, then a header that never ends, one byte per DRIP_INTERVAL_SECONDS."""
    def behaviour(connection: Connection) -> None:
        read_request(connection)
        connection.send(status_line)
        connection.drip(b"X-Slow: ")

    return behaviour


def tls_handshake_drip(connection: Connection) -> None:
    """Accept a TLS client and answer its ClientHello with a handshake record, one byte at a time."""
    connection.sock.settimeout(10)
    connection.sock.recv(65536)  # the ClientHello
    connection.drip(b"\x16\x03\x03\x40\x00" + b"\x02" * 0x4000)


def endless_body(connection: Connection) -> None:
    """200 at once, then a body that never ends."""
    read_request(connection)
    connection.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    started = time.monotonic()
    while time.monotonic() - started < GIVE_UP_SECONDS:
        if not connection.send(b"10000\r\n" + b"\0" * 0x10000 + b"\r\n"):
            return


@contextmanager
def hostile(behaviour: Callable[[Connection], None]) -> Iterator[HostileServer]:
    with HostileServer(behaviour) as server:
        yield server
