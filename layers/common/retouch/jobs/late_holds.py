"""Holds that land after their job was discarded, given back without anyone running an admin command.

How one happens: a submit's hold request times out in the SDK (its outcome unknown), the submit finds no hold and
deletes the job (billing/charges.py `complete_hold`), and DynamoDB applies the request a moment later. The account
then holds credit for a job that does not exist. So wherever a job is discarded with its hold not seen, a delayed
message on the jobs queue comes back to check: if the job is still gone and the account holds credit for it, the
hold is released (conditionally: a hold given back once is not given back again). Should that message be lost,
`reconcile` reports the hold and `retouch-admin release-orphan-holds` repairs it, as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from retouch.models.records import JobRecord
from retouch.ports import JobQueue

if TYPE_CHECKING:
    from retouch.billing.charges import JobBilling
    from retouch.models.messages import LateHoldCheck

logger = Logger(child=True)

# A hold request whose answer was lost lands within the SDK's timeouts and retries (seconds); checked well after.
LATE_HOLD_CHECK_DELAY_SECONDS = 120


def watch_for_late_hold(queue: JobQueue, job: JobRecord) -> None:
    """`job` was discarded without its hold being seen: come back later for a hold that lands after all."""
    micros = job.hold_pending if job.hold_pending is not None else job.reserved_micros
    if not micros:
        return
    try:
        queue.send_hold_check(job.job_id, account_id=job.account_id, micros=micros,
                              delay_seconds=LATE_HOLD_CHECK_DELAY_SECONDS)
    except Exception:  # reconcile still finds such a hold, and the admin command still repairs it
        logger.exception("late-hold check not queued", extra={"job_id": job.job_id, "account_id": job.account_id})


def release_late_hold(job_id: str, check: LateHoldCheck, billing: JobBilling) -> str:
    """The delayed check: release the account's hold for `job_id` if the job is gone; what happened, for logs."""
    if not billing.release_if_orphaned(check.account_id, job_id, check.micros):
        return "no_late_hold"
    logger.warning("a hold that landed after its job was discarded was released",
                   extra={"job_id": job_id, "account_id": check.account_id, "micros": check.micros})
    return "late_hold_released"
