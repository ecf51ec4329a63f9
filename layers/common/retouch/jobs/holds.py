"""Requests held open while their jobs run: at most `limit` per account at once, so one account cannot fill a
function's reserved concurrency and leave the others Lambda's throttling errors.

- The synchronous entry holds each submission up to SyncMaxWaitSeconds (SyncHoldsPerAccount of its
  SyncReservedConcurrency). Its caller needs the image, so over the limit the request is refused before anything is
  written (`holding`): 429 `sync_hold_limit_exceeded`, with Retry-After; `Prefer: respond-async` is never held.
- Through API Gateway, a `Prefer: wait` submission (api function) and a job's event stream (status function) are held
  up to 25 s (WaitHoldsPerAccount of ApiReservedConcurrency / StatusReservedConcurrency). A wait is only a
  preference (RFC 7240), so over the limit it is answered at once instead (`held_if_free` yields False): 202 with
  the job, or the events so far, and the client polls or resumes.

Each hold is a lease on one of the account's slots (data/account_slots.py) for the rest of the invocation, given back
when the answer is ready; a function killed mid-hold frees its slot when the lease ends.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
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
    # Over the limit: refused (the sync entry, whose caller needs the image), or answered at once (API Gateway).
    refuses_over_limit: bool = True

    def hold(self, account_id: str, seconds: float) -> AbstractContextManager[bool]:
        """One of the account's holds for up to `seconds`; yields whether the request is held. Over the limit,
        HoldsLimited (`refuses_over_limit`) or False."""
        if self.refuses_over_limit:
            return self.holding(account_id, seconds)
        return self.held_if_free(account_id, seconds)

    @contextmanager
    def holding(self, account_id: str, seconds: float) -> Iterator[bool]:
        """One of the account's holds for up to `seconds` (yields True), or HoldsLimited."""
        holder = self._acquired(account_id, seconds)
        if holder is None:
            raise HoldsLimited(
                f"This account already has {self.limit} requests held open waiting for their jobs, its limit; "
                "wait for one to end, or send `Prefer: respond-async` (and no `stream`) and poll the job.",
                retry_after_seconds=RETRY_AFTER_SECONDS)
        with self._released(account_id, holder):
            yield True

    @contextmanager
    def held_if_free(self, account_id: str, seconds: float) -> Iterator[bool]:
        """One of the account's holds for up to `seconds` (True), or False when all are taken, or when the slots
        cannot be reached (a wait is only a preference: answered at once rather than failed)."""
        try:
            holder = self._acquired(account_id, seconds)
        except Exception:
            logger.exception("holds not reachable; answering at once", extra={"account_id": account_id})
            holder = None
        if holder is None:
            yield False
            return
        with self._released(account_id, holder):
            yield True

    def _acquired(self, account_id: str, seconds: float) -> str | None:
        holder = f"request_{uuid.uuid4().hex}"
        now = now_epoch()
        return holder if self.slots.acquire(account_id, holder, now=now, until=now + math.ceil(seconds)) else None

    @contextmanager
    def _released(self, account_id: str, holder: str) -> Iterator[None]:
        try:
            yield
        finally:
            try:
                self.slots.release(account_id, holder)
            except Exception:
                logger.exception("hold not given back; it ends with its lease", extra={"account_id": account_id})
