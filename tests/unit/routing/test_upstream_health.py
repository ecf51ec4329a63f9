"""Upstream health (routing/health.py): each upstream of the routing document with its breaker's phase and current
window, a window past `window_seconds` shown as no calls, and the alarms as CloudWatch console links."""

from __future__ import annotations

from retouch.routing.breaker import BreakerState
from retouch.routing.document import load_routing
from retouch.routing.health import AlarmConsole, upstream_health
from tests.fakes.routing import FakeBreakerStore

NOW = 1_800_000_000


def _report(store: FakeBreakerStore):
    document = load_routing("default.json")
    return document, upstream_health(store, document, AlarmConsole(region="us-east-2", names=("a b/c",)), NOW)


def _name() -> str:
    return next(iter(load_routing("default.json").models.values()))[0].name


def test_an_upstream_shows_its_phase_and_its_current_windows_rate() -> None:
    store = FakeBreakerStore()
    store.items[_name()] = BreakerState(upstream=_name(), state="open", window_start=NOW - 10, calls=4, failures=3,
                                        open_until=NOW + 30)

    _, report = _report(store)

    [row] = [row for row in report.upstreams if row.name == _name()]
    assert (row.state, row.calls, row.failures, row.failure_rate_percent, row.open_until, row.window_start) == (
        "open", 4, 3, 75.0, NOW + 30, NOW - 10)


def test_a_window_older_than_the_policys_shows_no_calls() -> None:
    store = FakeBreakerStore()
    store.items[_name()] = BreakerState(upstream=_name(), state="closed", window_start=NOW - 3600, calls=9, failures=9)

    _, report = _report(store)

    [row] = [row for row in report.upstreams if row.name == _name()]
    assert (row.state, row.calls, row.failure_rate_percent, row.window_start) == ("closed", 0, None, None)


def test_an_open_breaker_past_its_cool_down_is_half_open_and_an_unknown_one_closed() -> None:
    store = FakeBreakerStore()
    document = load_routing("default.json")
    names = list(dict.fromkeys(route.name for routes in document.models.values() for route in routes))
    store.items[names[0]] = BreakerState(upstream=names[0], state="open", window_start=NOW - 5, calls=1, failures=1,
                                         open_until=NOW - 1)

    _, report = _report(store)

    assert [row.state for row in report.upstreams][:1] == ["half_open"]
    assert {row.state for row in report.upstreams[1:]} <= {"closed"}
    assert [row.name for row in report.upstreams] == names


def test_alarm_links_name_the_region_and_quote_the_name() -> None:
    _, report = _report(FakeBreakerStore())

    [link] = report.alarms
    assert link.url == ("https://us-east-2.console.aws.amazon.com/cloudwatch/home?region=us-east-2"
                        "#alarmsV2:alarm/a%20b%2Fc")
