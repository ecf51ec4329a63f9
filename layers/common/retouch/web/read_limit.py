"""The per-minute limit on every authenticated request that creates nothing (reads, cancels, deletes,
redeliveries), applied by the app to each such route: the routes that create something count against the account's
requests-per-minute themselves (web/admission.py), so polling never uses up the budget for new jobs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import BaseMiddlewareHandler, NextMiddleware

from retouch.billing.rate_limit import admit_read
from retouch.errors import RetouchError
from retouch.ports import ReadCounter
from retouch.web.principal import caller_if_any, route_key

# Counted by `admitted` against the account's requests per minute, not here (each counts once).
SUBMIT_ROUTES: frozenset[tuple[str, str]] = frozenset({
    ("POST", "/v1/images/edits"),
    ("POST", "/v1/images/generations"),
    ("POST", "/v1/uploads"),
})


@dataclass(frozen=True)
class ReadLimit:
    counter: ReadCounter
    per_minute: int


class LimitReads(BaseMiddlewareHandler[APIGatewayHttpResolver]):
    """Counts each authenticated request to a route not in SUBMIT_ROUTES (after RequireCaller has named its caller):
    429 past the limit; every answer after the count, errors included, carries OpenAI's x-ratelimit-* headers."""

    def __init__(self, limit: ReadLimit) -> None:
        super().__init__()
        self._limit = limit

    def handler(self, app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
        caller = caller_if_any()
        if caller is None or route_key(app.context["_route"]) in SUBMIT_ROUTES:
            return next_middleware(app)
        admission = admit_read(self._limit.counter, caller.account_id, self._limit.per_minute)
        try:
            response = next_middleware(app)
        except RetouchError as exc:
            exc.headers.update(admission.headers)
            raise
        response.headers.update(admission.headers)
        return response
