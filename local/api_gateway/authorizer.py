"""The HTTP API Lambda authorizer: identity check, invocation, the per-identity result cache, the verdict."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from local.api_gateway.http_events import (
    HttpRequest,
    HttpResponse,
    RequestMeta,
    build_authorizer_event,
    message_response,
)
from local.api_gateway.routes import RouteMatch
from local.cloudformation.template import AuthorizerSpec
from local.lambdas.invocation import Invocation


@dataclass(frozen=True)
class Verdict:
    """Either `context` for the route's event (allowed) or the response API Gateway sends instead."""

    context: dict[str, Any] | None = None
    denial: HttpResponse | None = None


@dataclass(frozen=True)
class _Cached:
    allowed: bool
    context: dict[str, Any]
    expires_at: float


class LambdaAuthorizer:
    def __init__(
        self,
        spec: AuthorizerSpec,
        invoke: Callable[[str, dict[str, Any]], Invocation],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._spec = spec
        self._invoke = invoke
        self._clock = clock
        self._cache: dict[tuple[str, ...], _Cached] = {}
        self._lock = threading.Lock()

    def authorize(self, request: HttpRequest, match: RouteMatch, meta: RequestMeta) -> Verdict:
        identity = [request.header(name) or "" for name in self._spec.identity_headers]
        if not all(identity):
            # A missing identity source never reaches the function.
            return Verdict(denial=message_response(401, "Unauthorized", meta.request_id))
        key = tuple(identity)
        # Without identity sources there is nothing to key a cache on: every request is authorized afresh.
        cached = self._cached(key) if identity else None
        if cached is None:
            invocation = self._invoke(self._spec.function_id, build_authorizer_event(request, match, meta, identity))
            decision = None if invocation.failed else _decision(invocation.payload, self._spec.simple_responses)
            if decision is None:
                return Verdict(denial=message_response(500, "Internal Server Error", meta.request_id))
            cached = _Cached(decision[0], decision[1], self._clock() + self._spec.reauthorize_every)
            if identity and self._spec.reauthorize_every > 0:
                with self._lock:
                    self._cache[key] = cached
        if not cached.allowed:
            return Verdict(denial=message_response(403, "Forbidden", meta.request_id))
        return Verdict(context=cached.context)

    def _cached(self, key: tuple[str, ...]) -> _Cached | None:
        with self._lock:
            entry = self._cache.get(key)
            if entry is not None and entry.expires_at <= self._clock():
                del self._cache[key]
                entry = None
            return entry


def _decision(payload: Any, simple: bool) -> tuple[bool, dict[str, Any]] | None:
    """(allowed, context), or None when the response is malformed (API Gateway answers 500)."""
    if not isinstance(payload, dict):
        return None
    context = payload.get("context") or {}
    if not isinstance(context, dict):
        return None
    if simple:
        allowed = payload.get("isAuthorized")
        return (allowed, context) if isinstance(allowed, bool) else None
    # IAM-policy responses: allowed when some statement allows (good enough for local routing).
    statements = (payload.get("policyDocument") or {}).get("Statement")
    if not isinstance(statements, list):
        return None
    return any(s.get("Effect") == "Allow" for s in statements if isinstance(s, dict)), context
