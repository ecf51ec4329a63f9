"""Requests held open while their jobs run (the synchronous entry holds each submission up to SyncMaxWaitSeconds):
at most `limit` per account at once, so one account cannot fill the entry's reserved concurrency
(SyncReservedConcurrency) and leave the others its 429s. Over the limit the request is refused before anything is
written: 429 `sync_hold_limit_exceeded`, with Retry-After; `Prefer: respond-async` is never held, so never refused.

Each hold is a lease on one of the account's slots (data/account_slots.py) for the rest of the invocation, given back
when the answer is ready; a function killed mid-hold frees its slot when the lease ends.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from aws_lambda_powertools import Logger

from retouch.errors import HoldsLimited
from retouch.models.common import now_epoch
from retouch.ports import AccountSlots

RETRY_AFTER_SECONDS = 5

logger = Logger(child=True)


@dataclass(frozen=True)
class HeldRequests:
    slots: AccountSlots
    limit: int  # ApiSettings.holds_per_account

    @contextmanager
    def holding(self, account_id: str, seconds: float) -> Iterator[None]:
        """One of the account's holds for up to `seconds`, or HoldsLimited."""
        holder = f"request_{uuid.uuid4().hex}"
        now = now_epoch()
        if not self.slots.acquire(account_id, holder, now=now, until=now + math.ceil(seconds)):
            raise HoldsLimited(
                f"This account already has {self.limit} requests waiting on the synchronous entry, its limit; wait for "
                "one to end, or send `Prefer: respond-async` and poll the job.",
                retry_after_seconds=RETRY_AFTER_SECONDS)
        try:
            yield
        finally:
            try:
                self.slots.release(account_id, holder)
            except Exception:
                logger.exception("hold not given back; it ends with its lease", extra={"account_id": account_id})
