"""Route selection like API Gateway HTTP APIs: the declared routes only, most specific match first."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote

from local.cloudformation.template import FUNCTION_URL_ROUTE_KEY, HttpRouteSpec

# Per-segment specificity: a literal beats `{param}`, which beats a greedy `{proxy+}`.
_LITERAL, _PARAM, _GREEDY = 2, 1, 0


@dataclass(frozen=True)
class RouteMatch:
    route: HttpRouteSpec
    path_parameters: dict[str, str]


@dataclass(frozen=True)
class _CompiledRoute:
    route: HttpRouteSpec
    segments: tuple[str, ...]

    def match(self, parts: list[str]) -> dict[str, str] | None:
        params: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            if segment.startswith("{") and segment.endswith("+}"):
                rest = parts[index:]
                if not rest or not rest[0]:
                    return None
                params[segment[1:-2]] = unquote("/".join(rest))
                return params
            if index >= len(parts):
                return None
            if segment.startswith("{") and segment.endswith("}"):
                if not parts[index]:
                    return None
                params[segment[1:-1]] = unquote(parts[index])
            elif segment != parts[index]:
                return None
        return params if len(parts) == len(self.segments) else None

    def specificity(self) -> tuple[tuple[int, ...], int]:
        ranks = tuple(
            _GREEDY if s.endswith("+}") else _PARAM if s.startswith("{") else _LITERAL for s in self.segments
        )
        return ranks, 0 if self.route.method == "ANY" else 1


class RouteTable:
    def __init__(self, routes: Iterable[HttpRouteSpec]) -> None:
        self._routes = [_CompiledRoute(r, tuple(r.path.split("/")[1:])) for r in routes]

    def match(self, method: str, raw_path: str) -> RouteMatch | None:
        """`raw_path` without the query string; None is API Gateway's 404 (no route for path and method)."""
        parts = raw_path.split("/")[1:]
        candidates = []
        for compiled in self._routes:
            if compiled.route.method not in (method.upper(), "ANY"):
                continue
            params = compiled.match(parts)
            if params is not None:
                candidates.append((compiled.specificity(), compiled, params))
        if not candidates:
            return None
        _, best, params = max(candidates, key=lambda c: c[0])
        return RouteMatch(route=best.route, path_parameters=params)


class FunctionUrlRoutes:
    """A Lambda Function URL: every method and path goes to its one function, with no authorizer."""

    def __init__(self, function_id: str) -> None:
        self._route = HttpRouteSpec(function_id=function_id, event_id="FunctionUrl", method="ANY",
                                    path=FUNCTION_URL_ROUTE_KEY, authorizer=None)

    def match(self, method: str, raw_path: str) -> RouteMatch:
        return RouteMatch(route=self._route, path_parameters={})
