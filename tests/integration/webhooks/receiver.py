"""A webhook receiver on 127.0.0.1 that verifies every request with the standardwebhooks library, as a customer's
would. Each request takes the next scripted answer (status, optional Location); then 200."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    verified_by: list[int]  # indexes of the receiver's secrets that verified the request
    payload: Any = None

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Receiver:
    secrets: list[str]
    answers: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    _changed: threading.Condition = field(default_factory=threading.Condition)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver._record(self.path, headers, body)
                status, extra = receiver._next_answer()
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("content-length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                receiver._record(self.path, {k.lower(): v for k, v in self.headers.items()}, b"")
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks"

    def script(self, *answers: int | tuple[int, dict[str, str]]) -> Receiver:
        self.answers = [a if isinstance(a, tuple) else (a, {}) for a in answers]
        return self

    def wait_for(self, count: int, timeout: float) -> list[Received]:
        with self._changed:
            self._changed.wait_for(lambda: len(self.requests) >= count, timeout=timeout)
            return list(self.requests)

    def _next_answer(self) -> tuple[int, dict[str, str]]:
        with self._changed:
            return self.answers.pop(0) if self.answers else (200, {})

    def _record(self, path: str, headers: dict[str, str], body: bytes) -> None:
        verified, payload = [], None
        for index, secret in enumerate(self.secrets):
            try:
                payload = Webhook(secret).verify(body, headers)
                verified.append(index)
            except WebhookVerificationError:
                pass
        with self._changed:
            status = self.answers[0][0] if self.answers else 200
            self.requests.append(Received(path, headers, body, status, verified, payload))
            self._changed.notify_all()
