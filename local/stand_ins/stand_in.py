"""What every provider stand-in shares: a threaded werkzeug server on loopback, the calls it received, the fault
counter, and waits that `stop()` releases.

A wire format subclasses `StandIn` and implements `respond(request)`; `local.stand_ins.openai_images` is one.
Providers that answer with image URLs `publish()` their outputs here: served at `/files/<name>` without credentials,
as their CDNs serve them; the newest `MAX_PUBLISHED` are kept, so a long `make run` stays bounded.
"""

from __future__ import annotations

import secrets
import sys
import threading
import time
import traceback
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Self

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from local.stand_ins.faults import FaultCounter


@dataclass(frozen=True)
class ReceivedCall:
    """One request that reached an images endpoint with credentials."""

    endpoint: str  # e.g. "edits" | "generations"
    prompt: str
    n: int | None
    size: str | None
    image_count: int
    has_mask: bool
    image_field_names: tuple[str, ...] = ()  # multipart names of the image parts, e.g. ("image[]", "image[]")
    fields: dict[str, Any] = field(default_factory=dict)  # every non-file parameter as received


class _QuietHandler(WSGIRequestHandler):
    def log(self, kind: str, message: str, *args: Any) -> None:
        pass


FILES_PREFIX = "/files/"
MAX_PUBLISHED = 256
_CONTENT_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


class Moments:
    """When each of a stand-in's upstream jobs finished (time.time()), by its id; the newest MAX_MOMENTS kept.
    Benchmarks measure the platform's lag from these (scripts/bench_streaming.py)."""

    MAX_MOMENTS = 1024

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._moments: OrderedDict[str, float] = OrderedDict()

    def record(self, key: str, at: float | None = None) -> None:
        with self._lock:
            self._moments[key] = time.time() if at is None else at
            while len(self._moments) > self.MAX_MOMENTS:
                self._moments.popitem(last=False)

    def get(self, key: str) -> float | None:
        with self._lock:
            return self._moments.get(key)


class StandIn:
    """A stand-in provider in a daemon thread; `base_url` is what its client needs.

    api_key: the one key it accepts (a wrong one gets the provider's 401); None accepts any non-empty key.
    """

    #: The upstream it stands in for (a routing entry's `kind`): `[fault:<upstream>:…]` directives target it.
    upstream = ""
    #: Path prefix of the provider's API, e.g. "/v1"; `base_url` ends with it.
    api_prefix = ""
    #: Largest request body read; larger ones get the subclass's 413 (werkzeug's RequestEntityTooLarge).
    max_body_bytes = 512 * 1024 * 1024

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        delay: float = 1.0,
        hang_seconds: float = 30.0,
        *,
        slow_seconds: float = 3.0,
        quiet: bool = True,
        api_key: str | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.delay = delay
        self.hang_seconds = hang_seconds
        self.slow_seconds = slow_seconds
        self.quiet = quiet
        self.api_key = api_key
        self.faults = FaultCounter(self.upstream)
        self._lock = threading.Lock()
        self._calls: list[ReceivedCall] = []
        self._published: OrderedDict[str, tuple[bytes, str]] = OrderedDict()
        self._stopping = threading.Event()
        self.answered_at = Moments()  # synchronous answers, by the provider's request id
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}{self.api_prefix}"

    @property
    def routing_base_url(self) -> str:
        """What a routing entry's `base_url` says to call this stand-in: its API's root (a provider whose adapter is
        configured with an endpoint's URL overrides this)."""
        return self.base_url

    @property
    def route_fields(self) -> dict[str, str]:
        """The routing-entry fields, besides `base_url`, its adapter needs to reach it (a deployment's name, ...)."""
        return {}

    @property
    def origin(self) -> str:
        """Scheme, host and port, without the API prefix."""
        return f"http://{self.host}:{self.port}"

    @property
    def calls(self) -> list[ReceivedCall]:
        with self._lock:
            return list(self._calls)

    def calls_for(self, prompt: str) -> list[ReceivedCall]:
        return [call for call in self.calls if call.prompt == prompt]

    def reset(self) -> None:
        """Forget received calls and fault counters."""
        with self._lock:
            self._calls.clear()
        self.faults.reset()

    def start(self) -> Self:
        if self._server is not None:
            return self
        self._stopping.clear()
        handler = WSGIRequestHandler if not self.quiet else _QuietHandler
        server = make_server(self.host, self.port, self._wsgi, threaded=True, request_handler=handler)
        self._server = server
        self.port = server.server_port
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=type(self).__name__, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; requests hanging on a timeout fault are released."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- Called from request threads ---------------------------------------------------------

    def respond(self, request: Request) -> Response:
        raise NotImplementedError

    @staticmethod
    def authorization_key(request: Request, scheme: str = "Bearer") -> str | None:
        """The key of an `Authorization: <scheme> <key>` header; None when absent or of another scheme."""
        auth = request.headers.get("Authorization", "")
        return auth.removeprefix(f"{scheme} ").strip() if auth.startswith(f"{scheme} ") else None

    def key_accepted(self, key: str | None) -> bool:
        if not key:
            return False
        return self.api_key is None or secrets.compare_digest(key, self.api_key)

    def publish(self, data: bytes, output_format: str) -> str:
        """An output image's URL on this stand-in (no credentials needed to GET it)."""
        name = f"{secrets.token_hex(8)}.{output_format}"
        with self._lock:
            self._published[name] = (data, _CONTENT_TYPES.get(output_format, "application/octet-stream"))
            while len(self._published) > MAX_PUBLISHED:
                self._published.popitem(last=False)
        return f"{self.origin}{FILES_PREFIX}{name}"

    def _published_file(self, request: Request) -> Response:
        with self._lock:
            found = self._published.get(request.path.removeprefix(FILES_PREFIX))
        if found is None or request.method != "GET":
            return Response("not found", status=404, mimetype="text/plain")
        return Response(found[0], status=200, mimetype=found[1])

    def record(self, call: ReceivedCall) -> None:
        with self._lock:
            self._calls.append(call)

    def wait(self, seconds: float) -> None:
        """Sleep, unless the stand-in stops first."""
        if seconds > 0:
            self._stopping.wait(seconds)

    def delay_for(self, fault: str | None) -> None:
        """The configured answer delay, plus what a `timeout` or `slow` fault adds."""
        self.wait(self.delay)
        self.delay_for_fault(fault)

    def delay_for_fault(self, fault: str | None) -> None:
        """Only what a `timeout` or `slow` fault adds (an asynchronous API's submit, which answers at once)."""
        if fault == "timeout":
            self.wait(self.hang_seconds)
        elif fault == "slow":
            self.wait(self.slow_seconds)

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        request.max_content_length = self.max_body_bytes
        request.max_form_memory_size = self.max_body_bytes
        try:
            response = self._published_file(request) if request.path.startswith(FILES_PREFIX) else self.respond(request)
        except Exception:  # noqa: BLE001 - a bug in the stand-in must still answer, like a real 500
            traceback.print_exc(file=sys.stderr)
            response = Response(
                '{"error": {"message": "stand-in provider crashed", "type": "server_error", "param": null, '
                '"code": null}}',
                status=500,
                mimetype="application/json",
            )
        return response(environ, start_response)
