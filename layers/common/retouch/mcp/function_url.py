"""The Streamable HTTP transport inside a Lambda behind a Function URL: one invocation, one HTTP exchange.

The SDK's Streamable HTTP app (Starlette, ASGI) runs stateless with JSON responses, so no request depends on an
earlier one reaching the same execution environment (Lambda keeps none in order) and no SSE stream outlives the
invocation; a task's state is its job, behind the API. This module only translates: a Function URL event (payload
2.0) into an ASGI request, the ASGI answer into the Function URL response.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from mcp.server.lowlevel import Server
from mcp.server.transport_security import TransportSecuritySettings

MCP_PATH = "/mcp"
Message = MutableMapping[str, Any]


def _scope(event: dict[str, Any]) -> dict[str, Any]:
    http = event["requestContext"]["http"]
    headers = [(name.lower().encode(), str(value).encode()) for name, value in (event.get("headers") or {}).items()]
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": http["method"],
            "scheme": "https", "path": event.get("rawPath") or "/", "raw_path": (event.get("rawPath") or "/").encode(),
            "query_string": (event.get("rawQueryString") or "").encode(), "headers": headers, "root_path": "",
            "client": (http.get("sourceIp") or "0.0.0.0", 0), "server": ("lambda", 443)}  # noqa: S104 (a label)


def _body(event: dict[str, Any]) -> bytes:
    body = event.get("body") or ""
    return base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()


async def serve_event(server: Server[Any], event: dict[str, Any]) -> dict[str, Any]:
    """Run one Function URL request through the server's Streamable HTTP app (stateless, JSON responses)."""
    # DNS-rebinding protection guards servers on a user's own loopback; this one is reached by its URL with a key.
    app = server.streamable_http_app(streamable_http_path=MCP_PATH, stateless_http=True, json_response=True,
                                     transport_security=TransportSecuritySettings(
                                         enable_dns_rebinding_protection=False))
    request_body = _body(event)
    delivered = False
    status = 500
    headers: dict[str, str] = {}
    chunks: list[bytes] = []

    async def receive() -> Message:
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": request_body, "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
            for name, value in message.get("headers") or []:
                headers[name.decode()] = value.decode()
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body") or b"")

    asgi: Callable[[dict[str, Any], Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
                   Awaitable[None]] = app
    async with server.session_manager.run():
        await asgi(_scope(event), receive, send)
    return {"statusCode": status, "headers": headers, "body": b"".join(chunks).decode(), "isBase64Encoded": False}
