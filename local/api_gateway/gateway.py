"""The HTTP API: route, authorize, invoke, map the response; and the loopback server that carries it."""

from __future__ import annotations

import binascii
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BufferedIOBase
from typing import Any

from local.api_gateway.authorizer import LambdaAuthorizer
from local.api_gateway.console_site import ConsoleSite
from local.api_gateway.http_events import (
    HttpRequest,
    HttpResponse,
    RequestMeta,
    build_http_event,
    build_http_response,
    message_response,
)
from local.api_gateway.routes import FunctionUrlRoutes, RouteTable
from local.api_gateway.streamed_response import MalformedStream, StreamCut, streamed_http_response
from local.api_gateway.throttle import TokenBucket
from local.aws.limits import HTTP_API_INTEGRATION_TIMEOUT_SECONDS, HTTP_API_MAX_BODY_BYTES
from local.lambdas.invocation import (
    FunctionUnavailable,
    Invocation,
    PayloadTooLarge,
    StreamedInvocation,
    Throttled,
)


def new_request_meta() -> RequestMeta:
    return RequestMeta(request_id=str(uuid.uuid4()), time=datetime.now(UTC))


@dataclass(frozen=True)
class EntryLimits:
    """What the entry in front of the functions refuses (see local.aws.limits)."""

    max_body_bytes: int | None  # None: no limit of the entry's own (a Function URL has only Lambda's)
    integration_timeout: float | None  # None: the function's own Timeout is the only bound
    function_error: tuple[int, str] = (500, "Internal Server Error")  # a failed or malformed invocation
    # A function throttled past its reserved concurrency (Lambda's TooManyRequestsException): API Gateway answers it
    # as any failed integration, 500; a Function URL passes Lambda's 429 on.
    throttled: tuple[int, str] = (500, "Internal Server Error")


HTTP_API_LIMITS = EntryLimits(HTTP_API_MAX_BODY_BYTES, HTTP_API_INTEGRATION_TIMEOUT_SECONDS)
# A Function URL answers a function error or timeout with 502.
FUNCTION_URL_LIMITS = EntryLimits(None, None, (502, "Internal Server Error"), (429, "Too Many Requests"))


class Gateway:
    """API Gateway's request path (or a Function URL's), without sockets (the server below, or a test, feeds it
    requests)."""

    def __init__(
        self,
        routes: RouteTable | FunctionUrlRoutes,
        authorizers: dict[str, LambdaAuthorizer],
        invoke: Callable[[str, dict[str, Any]], Invocation],
        *,
        log: Callable[[str], None] = lambda _line: None,
        new_meta: Callable[[], RequestMeta] = new_request_meta,
        limits: EntryLimits = HTTP_API_LIMITS,
        throttle: TokenBucket | None = None,
        invoke_streaming: Callable[[str, dict[str, Any]], Invocation | StreamedInvocation] | None = None,
        console_site: ConsoleSite | None = None,
    ) -> None:
        """`throttle`: the HTTP API's route throttle (local.api_gateway.throttle); None, none (a Function URL).
        `invoke_streaming`: a streaming Function URL's (InvokeMode RESPONSE_STREAM): each answer is streamed.
        `console_site`: the console's static files, served before the routes as the ConsoleDistribution's
        `/console/*` behaviour is in AWS."""
        self._console_site = console_site
        self._invoke_streaming = invoke_streaming
        self._routes = routes
        self._throttle = throttle
        self._authorizers = authorizers
        self._invoke = invoke
        self._log = log
        self._new_meta = new_meta
        self.limits = limits
        self._closed = threading.Event()

    def handle(self, request: HttpRequest) -> HttpResponse:
        started = time.monotonic()
        meta = self._new_meta()
        try:
            response = self._respond(request, meta)
        except Exception:  # noqa: BLE001 - a bug here must answer 500 and say why, not drop the connection
            self._log(f"{request.method} {request.raw_path} failed in the gateway:\n{traceback.format_exc()}")
            response = message_response(500, "Internal Server Error", meta.request_id)
        elapsed_ms = (time.monotonic() - started) * 1000
        self._log(f"{request.method} {request.raw_path} {response.status} {elapsed_ms:.0f} ms")
        return response

    def _respond(self, request: HttpRequest, meta: RequestMeta) -> HttpResponse:
        if self.limits.max_body_bytes is not None and len(request.body) > self.limits.max_body_bytes:
            return message_response(413, "Request Entity Too Large", meta.request_id)
        if self._console_site is not None and (page := self._console_site.respond(request)) is not None:
            return page
        match = self._routes.match(request.method, request.raw_path)
        if match is None:
            return message_response(404, "Not Found", meta.request_id)
        if self._throttle is not None and not self._throttle.take():
            return message_response(429, "Too Many Requests", meta.request_id)
        authorizer_context = None
        if match.route.authorizer is not None:
            try:
                verdict = self._authorizers[match.route.authorizer].authorize(request, match, meta)
            except FunctionUnavailable:
                return message_response(500, "Internal Server Error", meta.request_id)
            if verdict.denial is not None:
                return verdict.denial
            authorizer_context = verdict.context
        event = build_http_event(request, match, meta, authorizer_context)
        if self._invoke_streaming is not None:
            return self._streamed(match.route.function_id, event, meta)
        try:
            invocation = self._integrate(match.route.function_id, event)
        except FuturesTimeout:
            return message_response(503, "Service Unavailable", meta.request_id)
        except PayloadTooLarge:
            return message_response(413, "Request Entity Too Large", meta.request_id)
        except Throttled:
            return message_response(*self.limits.throttled, meta.request_id)
        except FunctionUnavailable:
            return message_response(*self.limits.function_error, meta.request_id)
        if invocation.failed:
            return message_response(*self.limits.function_error, meta.request_id)
        try:
            return build_http_response(invocation.payload, meta.request_id)
        except (TypeError, ValueError, binascii.Error):
            # A malformed result (bad statusCode, bad base64) is a function error too.
            return message_response(*self.limits.function_error, meta.request_id)

    def _streamed(self, function_id: str, event: dict[str, Any], meta: RequestMeta) -> HttpResponse:
        """A streaming Function URL's answer: its status and headers from the prelude, then the body as written."""
        assert self._invoke_streaming is not None
        try:
            answer = self._invoke_streaming(function_id, event)
        except PayloadTooLarge:
            return message_response(413, "Request Entity Too Large", meta.request_id)
        except Throttled:
            return message_response(*self.limits.throttled, meta.request_id)
        except FunctionUnavailable:
            return message_response(*self.limits.function_error, meta.request_id)
        if isinstance(answer, Invocation):  # failed before it answered
            return message_response(*self.limits.function_error, meta.request_id)
        try:
            return streamed_http_response(answer.chunks, meta.request_id)
        except MalformedStream:
            close = getattr(answer.chunks, "close", None)
            if close is not None:
                close()  # frees the environment
            return message_response(*self.limits.function_error, meta.request_id)

    def _integrate(self, function_id: str, event: dict[str, Any]) -> Invocation:
        """The function's answer, within the integration timeout when the entry has one (FuturesTimeout past it).
        A timed integration runs on a thread of its own, never queued behind others, and one that outlives the
        timeout goes on running, as Lambda runs it to its Timeout."""
        if self._closed.is_set():
            raise RuntimeError("the gateway is closed")
        timeout = self.limits.integration_timeout
        if timeout is None:
            return self._invoke(function_id, event)
        answer: Future[Invocation] = Future()

        def run() -> None:
            try:
                answer.set_result(self._invoke(function_id, event))
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting request, which maps it
                answer.set_exception(exc)

        threading.Thread(target=run, name="integration", daemon=True).start()
        return answer.result(timeout=timeout)

    def close(self) -> None:
        """Stop taking integrations; those still running finish on their own (as functions run to their Timeout)."""
        self._closed.set()


class _BadRequest(Exception):
    pass


class _TooLarge(Exception):
    """The body passes the entry's limit: refused, and read off the socket without being kept (memory stays bounded
    whatever the client sends; the connection stays usable, so the client reads the 413 rather than a reset)."""


# Bytes read at a time from a body that is being discarded.
_DISCARD_PIECE_BYTES = 1024 * 1024


# Bounds one chunk-size or trailer line, as http.server bounds a header line.
_MAX_LINE_BYTES = 65537


def read_request_body(headers: Message, rfile: BufferedIOBase, max_bytes: int | None = None) -> bytes:
    """The body as Content-Length or chunked transfer coding frames it; _BadRequest when the framing is wrong,
    _TooLarge when it passes `max_bytes` (then read in pieces and dropped, never held whole)."""
    if "chunked" in (headers.get("Transfer-Encoding") or "").lower():
        return _read_chunked(rfile, max_bytes)
    try:
        length = int(headers.get("Content-Length") or 0)
    except ValueError:
        raise _BadRequest from None
    if length < 0:
        raise _BadRequest
    if max_bytes is not None and length > max_bytes:
        _discard(rfile, length)
        raise _TooLarge
    body = rfile.read(length) if length else b""
    if len(body) != length:
        raise _BadRequest
    return body


def _discard(rfile: BufferedIOBase, length: int) -> None:
    while length > 0:
        piece = rfile.read(min(length, _DISCARD_PIECE_BYTES))
        if not piece:
            raise _BadRequest  # the client sent less than it declared
        length -= len(piece)


def _read_chunked(rfile: BufferedIOBase, max_bytes: int | None) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        try:
            size = int(rfile.readline(_MAX_LINE_BYTES).split(b";")[0].strip(), 16)
        except ValueError:
            raise _BadRequest from None
        if size == 0:
            while rfile.readline(_MAX_LINE_BYTES) not in (b"\r\n", b"\n", b""):
                pass  # trailers
            if max_bytes is not None and total > max_bytes:
                raise _TooLarge
            return b"".join(chunks)
        total += size
        if max_bytes is not None and total > max_bytes:
            chunks.clear()
            _discard(rfile, size)
        else:
            chunks.append(rfile.read(size))
        rfile.readline()


class _ThreadingServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    gateway: Gateway  # set by GatewayServer.serve before the first request is accepted


class _GatewayRequestHandler(BaseHTTPRequestHandler):
    """One connection's requests, read off the socket and handed to the server's Gateway."""

    server: _ThreadingServer
    # HTTP/1.1: keep-alive for SDK clients, and `Expect: 100-continue` (curl, large uploads) is honoured.
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without TCP_NODELAY, Nagle plus delayed ACKs add ~40 ms.
    disable_nagle_algorithm = True

    def _serve(self) -> None:
        try:
            body = read_request_body(self.headers, self.rfile, self.server.gateway.limits.max_body_bytes)
        except _BadRequest:
            self._write(message_response(400, "Bad Request", ""), close=True)
            return
        except _TooLarge:
            self._write(message_response(413, "Request Entity Too Large", ""))
            return
        self._write(self.server.gateway.handle(self._request(body)))

    def _request(self, body: bytes) -> HttpRequest:
        path, _, query = self.path.partition("?")
        return HttpRequest(
            method=self.command,
            raw_path=path,
            raw_query=query,
            headers=list(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
            protocol=self.request_version,
        )

    def __getattr__(self, name: str) -> Any:
        # http.server answers a method it has no do_X for (TRACE, PROPFIND, any token) with a 501 HTML page;
        # API Gateway routes every method, so an undeclared one is its JSON 404 like any unknown route.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def _write(self, response: HttpResponse, close: bool = False) -> None:
        if response.stream is not None:
            self._write_stream(response, response.stream)
            return
        try:
            self.send_response(response.status)
            for name, value in response.headers:
                if name not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away; nothing to answer

    def _write_stream(self, response: HttpResponse, stream: Iterator[bytes]) -> None:
        """Chunked, each chunk sent as it comes; a stream that ends early (StreamCut, the function failed) closes
        the connection without the last chunk, so the client sees a cut-short body, as from Lambda. A client that
        goes away does not stop the function: as in AWS, it runs on to the end of its stream (and is billed for it),
        its chunks dropped."""
        try:
            self.send_response(response.status)
            for name, value in response.headers:
                if name not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(name, value)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.flush()
            for chunk in stream:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        except StreamCut:
            self.close_connection = True
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            _drain(stream)
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()

    def version_string(self) -> str:
        return "retouch-local"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # Gateway.handle logs one line per request


def _drain(stream: Iterator[bytes]) -> None:
    """Read a function's stream to its end, dropping it (its client is gone)."""
    try:
        for _chunk in stream:
            pass
    except StreamCut:
        pass


class GatewayServer:
    """Binds at construction (a busy PORT fails the start at once), serves once `serve(gateway)` is called."""

    def __init__(self, port: int) -> None:
        self._server = _ThreadingServer(("127.0.0.1", port), _GatewayRequestHandler)
        self.port = int(self._server.server_address[1])
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def serve(self, gateway: Gateway) -> None:
        self._server.gateway = gateway
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, name="gateway", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Idempotent: the stack calls it once to stop serving early, and again when it unwinds."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._server.shutdown()
            thread.join(timeout=5)
            self._server.gateway.close()
        self._server.server_close()
