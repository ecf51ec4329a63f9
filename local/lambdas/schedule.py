"""EventBridge schedules (SAM `Schedule` events): invoke the function with a scheduled event every interval.

`rate(N minute|minutes|hour|hours|day|days)` is honoured; a local `every_seconds` replaces every interval (the
sweeper's 5 minutes are too slow to watch locally). cron() expressions need a local interval.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from local.cloudformation.intrinsics import ACCOUNT_ID, REGION
from local.lambdas.invocation import Invocation

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> int:
    match = _RATE.match(expression.strip())
    if match is None:
        raise ValueError(f"only rate(...) schedules run locally without an interval of their own: {expression!r}")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]


def scheduled_event(rule_name: str) -> dict[str, Any]:
    """What EventBridge sends a function for a scheduled rule."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{rule_name}"],
        "detail": {},
    }


class Schedule:
    """One schedule's timer thread; an invocation that fails is logged, as EventBridge's retries are not needed."""

    def __init__(self, function_id: str, rule_name: str, every_seconds: float,
                 invoke: Callable[[str, dict[str, Any]], Invocation], log: Callable[[str], None]) -> None:
        self._function_id = function_id
        self._rule_name = rule_name
        self.every_seconds = every_seconds
        self._invoke = invoke
        self._log = log
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"schedule-{rule_name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def signal_stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float = 5.0) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self.every_seconds):
            try:
                invocation = self._invoke(self._function_id, scheduled_event(self._rule_name))
            except Exception as exc:  # noqa: BLE001 - the next tick tries again
                self._log(f"{self._rule_name}: {type(exc).__name__}: {exc}")
                continue
            if invocation.failed:
                self._log(f"{self._rule_name}: the invocation failed: {invocation.payload}")
