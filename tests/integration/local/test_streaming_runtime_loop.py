"""The sync function's Runtime API loop (retouch/streaming_runtime.py) against a loopback Runtime API: each
invocation's result POSTed in streaming mode as an HTTP integration response, a handler error as an invocation
error, a failure midway as Lambda's error trailers."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from retouch.streaming_runtime import PRELUDE_DELIMITER, RuntimeApi, StreamedResponse, serve

EVENTS = [{"n": 1}, {"n": 2}, {"n": 3}]


class FakeRuntimeApi:
    """Hands out EVENTS, then holds the next GET; records what the loop POSTs."""

    def __init__(self) -> None:
        self.posts: queue.Queue[dict[str, Any]] = queue.Queue()
        pending = list(EVENTS)
        posts = self.posts
        release = self.release = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                if not pending:
                    release.wait(30)
                    self.send_response(500)
                    self.end_headers()
                    return
                event = pending.pop(0)
                body = json.dumps(event).encode()
                self.send_response(200)
                self.send_header("Lambda-Runtime-Aws-Request-Id", f"req-{event['n']}")
                self.send_header("Lambda-Runtime-Deadline-Ms", "9999999999999")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                chunks, trailers = [], {}
                if self.headers.get("Transfer-Encoding") == "chunked":
                    while True:
                        size = int(self.rfile.readline().strip(), 16)
                        if size == 0:
                            while (line := self.rfile.readline().strip()):
                                name, _, value = line.decode().partition(": ")
                                trailers[name] = value
                            break
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                else:
                    chunks.append(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                posts.put({"path": self.path, "headers": dict(self.headers), "chunks": chunks, "trailers": trailers})
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"


def handler(event: dict[str, Any], context: Any) -> Any:
    if event["n"] == 1:
        return StreamedResponse(200, {"content-type": "text/event-stream"}, iter([b"data: 1\n\n", b"data: 2\n\n"]))
    if event["n"] == 2:
        raise ValueError("bad request")

    def failing() -> Iterator[bytes]:
        yield b"partial"
        raise RuntimeError("midway")

    return StreamedResponse(200, {}, failing())


@pytest.fixture()
def runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeRuntimeApi]:
    fake = FakeRuntimeApi()
    monkeypatch.setattr("retouch.streaming_runtime._load_handler", lambda _name: handler)
    threading.Thread(target=serve, args=(RuntimeApi(fake.address), "app.lambda_handler"), daemon=True).start()
    yield fake
    fake.release.set()
    fake.server.shutdown()


def test_each_invocation_is_streamed_or_reported_as_lambda_expects(runtime: FakeRuntimeApi) -> None:
    streamed, failed, cut = (runtime.posts.get(timeout=10) for _ in range(3))
    # a streamed answer: streaming mode, the HTTP integration content type, the prelude then the body's chunks
    assert streamed["path"] == "/2018-06-01/runtime/invocation/req-1/response"
    assert streamed["headers"]["Lambda-Runtime-Function-Response-Mode"] == "streaming"
    assert streamed["headers"]["Content-Type"] == "application/vnd.awslambda.http-integration-response"
    prelude, _, body = b"".join(streamed["chunks"]).partition(PRELUDE_DELIMITER)
    assert json.loads(prelude)["statusCode"] == 200 and body == b"data: 1\n\ndata: 2\n\n"
    assert streamed["trailers"] == {}
    # a handler that raised: the invocation's error
    assert failed["path"] == "/2018-06-01/runtime/invocation/req-2/error"
    assert json.loads(failed["chunks"][0])["errorType"] == "ValueError"
    # a failure after the first byte: what was sent, then Lambda's error trailers
    assert b"".join(cut["chunks"]).endswith(b"partial")
    assert cut["trailers"]["Lambda-Runtime-Function-Error-Type"] == "RuntimeError"
