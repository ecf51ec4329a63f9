"""The account's recent webhook deliveries, for the console's delivery log: read from the delivery logs its jobs keep
(each job item's `webhook.deliveries`, the latest attempts), across its most recent jobs. Nothing else is stored for
it, so the log costs no write; its reach is the jobs it reads (RECENT_JOBS_READ, one Query of the account's index)."""

from __future__ import annotations

from retouch.models.console_routes import DeliveryLog, DeliveryLogEntry
from retouch.ports import AccountJobs

# The newest jobs whose logs are read: one page of the account's own index partition.
RECENT_JOBS_READ = 100
MAX_DELIVERIES_LISTED = 100


def recent_deliveries(jobs: AccountJobs, account_id: str, limit: int) -> DeliveryLog:
    """Up to `limit` delivery attempts of the account's newest jobs, newest first."""
    records, _ = jobs.page(account_id, limit=RECENT_JOBS_READ)
    entries = [DeliveryLogEntry(job_id=record.job_id, event_type=delivery.type, event_id=delivery.event_id,
                                outcome=delivery.outcome, status_code=delivery.status_code, attempt=delivery.attempt,
                                at=delivery.at, error=delivery.error)
               for record in records if record.webhook is not None for delivery in record.webhook.deliveries]
    entries.sort(key=lambda entry: (entry.at, entry.attempt), reverse=True)
    return DeliveryLog(data=entries[:min(limit, MAX_DELIVERIES_LISTED)])
