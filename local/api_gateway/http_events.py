"""API Gateway HTTP API payload format 2.0: requests to events, function results to responses. No I/O."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from local.api_gateway.routes import RouteMatch
from local.cloudformation.intrinsics import ACCOUNT_ID, REGION

STAGE = "$default"


@dataclass(frozen=True)
class HttpRequest:
    method: str
    raw_path: str
    raw_query: str
    headers: list[tuple[str, str]]  # as received: any case, repeats kept
    body: bytes
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return ",".join(values) if values else None


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    # A streamed body (a streaming Function URL's), written chunk by chunk after the headers; `body` is then empty.
    stream: Iterator[bytes] | None = None


@dataclass(frozen=True)
class RequestMeta:
    """Per-request values API Gateway generates (injected, so events are deterministic in tests)."""

    request_id: str
    time: datetime
    api_id: str = "local"


def message_response(status: int, message: str, request_id: str) -> HttpResponse:
    """API Gateway's own answers (404, 401, 403, 500) carry `{"message": ...}`."""
    body = json.dumps({"message": message}, separators=(",", ":")).encode()
    return HttpResponse(status, [("content-type", "application/json"), ("apigw-requestid", request_id)], body)


def event_headers(request: HttpRequest) -> dict[str, str]:
    """Lower-cased names, repeats comma-joined; cookies travel in `cookies`, not here."""
    merged: dict[str, list[str]] = {}
    for name, value in request.headers:
        if name.lower() != "cookie":
            merged.setdefault(name.lower(), []).append(value)
    return {name: ",".join(values) for name, values in merged.items()}


def event_cookies(request: HttpRequest) -> list[str]:
    cookies = []
    for name, value in request.headers:
        if name.lower() == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
    return cookies


def query_parameters(raw_query: str) -> dict[str, str]:
    merged: dict[str, list[str]] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        merged.setdefault(name, []).append(value)
    return {name: ",".join(values) for name, values in merged.items()}


def is_text(content_type: str | None) -> bool:
    """Bodies API Gateway passes as text here; everything else arrives base64-encoded."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    return media_type.startswith("text/") or media_type == "application/json" or media_type.endswith("+json")


def encode_body(request: HttpRequest) -> tuple[str | None, bool]:
    if not request.body:
        return None, False
    if is_text(request.header("content-type")):
        try:
            return request.body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(request.body).decode("ascii"), True


def request_context(request: HttpRequest, route_key: str, meta: RequestMeta) -> dict[str, Any]:
    domain_name = request.header("host") or "127.0.0.1"
    return {
        "accountId": ACCOUNT_ID,
        "apiId": meta.api_id,
        "domainName": domain_name,
        "domainPrefix": domain_name.split(".")[0],
        "http": {
            "method": request.method,
            "path": request.raw_path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": request.header("user-agent") or "",
        },
        "requestId": meta.request_id,
        "routeKey": route_key,
        "stage": STAGE,
        "time": meta.time.astimezone(UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(meta.time.timestamp() * 1000),
    }


def _optional_parts(request: HttpRequest, match: RouteMatch) -> dict[str, Any]:
    """Keys API Gateway leaves out when empty."""
    parts: dict[str, Any] = {}
    cookies = event_cookies(request)
    if cookies:
        parts["cookies"] = cookies
    query = query_parameters(request.raw_query)
    if query:
        parts["queryStringParameters"] = query
    if match.path_parameters:
        parts["pathParameters"] = dict(match.path_parameters)
    return parts


def build_http_event(
    request: HttpRequest,
    match: RouteMatch,
    meta: RequestMeta,
    authorizer_context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    route_key = match.route.route_key
    context = request_context(request, route_key, meta)
    if authorizer_context is not None:
        context["authorizer"] = {"lambda": authorizer_context}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
        **_optional_parts(request, match),
        "headers": event_headers(request),
        "requestContext": context,
        "isBase64Encoded": False,
    }
    body, is_base64 = encode_body(request)
    if body is not None:
        event["body"] = body
        event["isBase64Encoded"] = is_base64
    return event


def build_authorizer_event(
    request: HttpRequest, match: RouteMatch, meta: RequestMeta, identity_source: list[str]
) -> dict[str, Any]:
    """The REQUEST event of a payload-2.0 Lambda authorizer (no body: authorizers never see it)."""
    route = match.route
    route_arn = f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{meta.api_id}/{STAGE}/{route.method}{route.path}"
    return {
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": route_arn,
        "identitySource": identity_source,
        "routeKey": route.route_key,
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
        **_optional_parts(request, match),
        "headers": event_headers(request),
        "requestContext": request_context(request, route.route_key, meta),
    }


def build_http_response(result: Any, request_id: str) -> HttpResponse:
    """Map a payload-2.0 result; anything without `statusCode` is a 200 JSON body, as API Gateway infers."""
    if not (isinstance(result, dict) and "statusCode" in result):
        body = result if isinstance(result, str) else json.dumps(result)
        headers = [("content-type", "application/json"), ("apigw-requestid", request_id)]
        return HttpResponse(200, headers, body.encode())
    headers = [(str(k).lower(), _header_value(v)) for k, v in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((str(name).lower(), _header_value(v)) for v in values)
    headers.extend(("set-cookie", str(cookie)) for cookie in result.get("cookies") or [])
    headers.append(("apigw-requestid", request_id))
    raw_body = result.get("body")
    if raw_body is None:
        body = b""
    elif result.get("isBase64Encoded"):
        body = base64.b64decode(raw_body)
    else:
        body = (raw_body if isinstance(raw_body, str) else json.dumps(raw_body)).encode()
    return HttpResponse(int(result["statusCode"]), headers, body)


def _header_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
