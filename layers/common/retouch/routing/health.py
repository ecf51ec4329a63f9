"""Upstream health for the operator's console: each upstream of the routing document with its circuit breaker as the
breakers' items hold it (state, the current window's calls and failures: routing/breaker.py), and the stack's
CloudWatch alarms as links into the CloudWatch console.

The breaker counts one window at a time (`window_seconds`, 60 s by default), so the failure rate shown is the current
window's, the one the breaker decides on; a window older than that is over (the next call starts a new one) and shows
as no calls. Longer history is CloudWatch's (the ProviderFailureRate alarm and the dashboard), linked below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote

from retouch.models.console_routes import AlarmLink, UpstreamHealth, UpstreamHealthReport
from retouch.routing.breaker import BreakerState
from retouch.routing.document import BreakerPolicy, RoutingDocument, UpstreamRoute


class BreakerReader(Protocol):
    """What this view reads of the breakers (routing.breaker.BreakerStore's `read`)."""

    def read(self, upstream: str) -> BreakerState | None: ...


@dataclass(frozen=True)
class AlarmConsole:
    """The stack's alarms (names as CloudFormation made them) and the region whose CloudWatch console shows them."""

    region: str
    names: tuple[str, ...]

    def links(self) -> list[AlarmLink]:
        console = f"https://{self.region}.console.aws.amazon.com/cloudwatch/home?region={self.region}"
        return [AlarmLink(name=name, url=f"{console}#alarmsV2:alarm/{quote(name, safe='')}") for name in self.names]


def _upstreams(document: RoutingDocument) -> dict[str, tuple[UpstreamRoute, list[str]]]:
    """Upstream name -> its entry and the models it serves, in the document's order."""
    found: dict[str, tuple[UpstreamRoute, list[str]]] = {}
    for model_id, routes in document.models.items():
        for route in routes:
            found.setdefault(route.name, (route, []))[1].append(model_id)
    return found


def _health(route: UpstreamRoute, models: list[str], policy: BreakerPolicy, state: BreakerState | None,
            now: int) -> UpstreamHealth:
    current = state is not None and state.window_start > now - policy.window_seconds
    calls = state.calls if state is not None and current else 0
    failures = state.failures if state is not None and current else 0
    return UpstreamHealth(
        name=route.name, kind=route.kind, models=models, state=state.phase(now) if state else "closed",
        open_until=state.open_until if state is not None and state.state == "open" else None,
        window_start=state.window_start if state is not None and current else None,
        window_seconds=policy.window_seconds, calls=calls, failures=failures,
        failure_rate_percent=round(100 * failures / calls, 1) if calls else None,
        trip_at_percent=policy.failure_rate_percent, min_calls=policy.min_calls)


def upstream_health(breakers: BreakerReader, document: RoutingDocument, alarms: AlarmConsole,
                    now: int) -> UpstreamHealthReport:
    """Every upstream's breaker (one strongly consistent read each) and the alarm links."""
    overrides = document.breaker_overrides()
    upstreams = [_health(route, models, overrides.get(name, document.breaker), breakers.read(name), now)
                 for name, (route, models) in _upstreams(document).items()]
    return UpstreamHealthReport(at=now, upstreams=upstreams, alarms=alarms.links())
