"""API Gateway's route throttling: a token bucket per stage, as the HTTP API's DefaultRouteSettings declare it.

API Gateway throttles with a token bucket: `ThrottlingBurstLimit` tokens at most, refilled at
`ThrottlingRateLimit` per second; a request that finds the bucket empty is answered `429 {"message":"Too Many
Requests"}` without reaching the authorizer or the integration ("Throttle requests to your HTTP APIs", API Gateway
developer guide). The local HTTP API applies its template's default route throttle to every matched route (one
bucket: the template sets no per-route settings); a path that matches no route is a 404 either way.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RouteThrottle:
    rate_per_second: float  # ThrottlingRateLimit
    burst: int  # ThrottlingBurstLimit


class TokenBucket:
    def __init__(self, throttle: RouteThrottle, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = throttle.rate_per_second
        self._capacity = float(max(throttle.burst, 1))
        self._clock = clock
        self._tokens = self._capacity
        self._at = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        """One token, if there is one; False: throttled."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self._capacity, self._tokens + (now - self._at) * self._rate)
            self._at = now
            if self._tokens < 1:
                return False
            self._tokens -= 1
            return True
