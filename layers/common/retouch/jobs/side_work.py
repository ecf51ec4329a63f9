"""A delivery's side work: calls that need not hold up the job's path, run beside it.

Invariant: every call started here is finished (or has failed, logged) before the delivery that started it returns
or raises: `join` runs in the delivery's `finally`. So none is in flight when Lambda freezes the environment, and none
lands after the delivery's last word on its message (the delay of a retry). A failure is logged and swallowed: side
work is what a job can do without (a breaker's success count, the first shortening of the message's visibility, which
the heartbeat renews anyway).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from aws_lambda_powertools import Logger

logger = Logger(child=True)


class SideWork:
    def __init__(self, job_id: str) -> None:
        self._job_id = job_id
        self._threads: list[threading.Thread] = []

    def start(self, name: str, call: Callable[[], object]) -> None:
        """Run `call` on a thread of its own, now."""
        def run() -> None:
            try:
                call()
            except Exception:
                logger.exception("side work failed", extra={"job_id": self._job_id, "work": name})

        thread = threading.Thread(target=run, name=f"{name}-{self._job_id}", daemon=True)
        thread.start()
        self._threads.append(thread)

    def join(self) -> None:
        """Wait for everything started so far."""
        for thread in self._threads:
            thread.join()
        self._threads.clear()
