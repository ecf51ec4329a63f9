"""A worker's heartbeat: while it waits on the provider, it renews its claim on the job and its hold on the message.

Leases stay short (minutes), so a job whose worker died runs again within one lease; a live worker's beats keep
both the job's lease and the message's visibility ahead of the clock, however long the provider takes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType

from aws_lambda_powertools import Logger

logger = Logger(child=True)


class Heartbeat:
    """Calls `beat()` every `interval` seconds on a daemon thread, from entering the block until leaving it or until
    `beat()` returns False (the claim was lost: nothing left to keep). A beat that raises is logged and tried again
    at the next interval; the lease has room for a missed beat or two."""

    def __init__(self, beat: Callable[[], bool], interval: float, *, name: str = "heartbeat") -> None:
        self._beat = beat
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.beats = 0

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join(timeout=self._interval)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                keep_going = self._beat()
            except Exception:
                logger.exception("heartbeat failed; trying again at the next beat")
                continue
            self.beats += 1
            if not keep_going:
                logger.warning("heartbeat stopped: the claim was lost")
                return
