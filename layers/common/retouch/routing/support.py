"""Whether a model's routed upstreams can serve a request, checked at submit: the routing document names the upstreams,
each one's documented `Capabilities` (the upstream registry, pure data) what it takes. A request none of them
can serve (n=5 where every upstream makes at most 4, a mask where none takes one) is a 400 naming the parameter,
before anything is stored or charged, rather than a job that fails in the worker."""

from __future__ import annotations

from typing import Any

from retouch.errors import InvalidRequest
from retouch.routing.document import RoutingDocument
from retouch.upstream_registry import UPSTREAMS, refusal_of_shape


class UpstreamSupport:
    def __init__(self, document: RoutingDocument) -> None:
        self._document = document

    def check(self, model_id: str, *, operation: str, image_count: int, has_mask: bool,
              options: dict[str, Any]) -> None:
        """Return when at least one upstream of `model_id` can serve the request; else raise InvalidRequest naming the
        parameter the first upstream cannot serve, with every upstream's reason."""
        problems: list[tuple[str, str]] = []
        for route in self._document.routes_for(model_id):
            problem = refusal_of_shape(UPSTREAMS[route.kind].capabilities, operation=operation, image_count=image_count,
                                       has_mask=has_mask, options=options)
            if problem is None:
                return
            problems.append(problem)
        param = problems[0][0]
        reasons = "; ".join(f"{reason} (parameter '{problem_param}')" for problem_param, reason in problems)
        raise InvalidRequest(f"No upstream configured for {model_id} supports this request: {reasons}.",
                             param=param, code="unsupported_by_upstream")
