"""The collaborators of the console's own route groups (web/routes/console_*.py: keys, webhook settings, a job's
images, the operator's views), for the console function's wiring to append to its own. Built from plain values, so
whichever settings model the console function reads them from, they are built the same way."""

from __future__ import annotations

from retouch.data.account_directory import AccountDirectoryRepository
from retouch.data.accounts import AccountRepository
from retouch.data.breakers import BreakerRepository
from retouch.data.jobs import JobRepository
from retouch.data.ledger import LedgerRepository
from retouch.data.objects import ObjectStore
from retouch.data.usage import AccountJobs
from retouch.data.webhooks import WebhookSettingsRepository
from retouch.outbound_http.url_safety import parse_allowlist
from retouch.routing.document import load_routing
from retouch.routing.health import AlarmConsole
from retouch.web.routes.console_jobs import ConsoleJobRoutes
from retouch.web.routes.console_keys import ConsoleKeyRoutes
from retouch.web.routes.console_operator import OperatorRoutes
from retouch.web.routes.console_webhooks import ConsoleWebhookRoutes


def build_console_routes(*, table_name: str, bucket_name: str, url_expiry_seconds: int, url_allowlist: str,
                         routing_document: str, region: str, alarm_names: tuple[str, ...]) -> list[object]:
    """One object per console route group: console_keys, console_webhooks, console_jobs, console_operator."""
    account_jobs = AccountJobs(table_name)
    return [
        ConsoleKeyRoutes(accounts=AccountRepository(table_name)),
        ConsoleWebhookRoutes(settings=WebhookSettingsRepository(table_name), account_jobs=account_jobs,
                             allowlist=parse_allowlist(url_allowlist)),
        ConsoleJobRoutes(jobs=JobRepository(table_name), store=ObjectStore(bucket_name),
                         url_expiry_seconds=url_expiry_seconds),
        OperatorRoutes(directory=AccountDirectoryRepository(table_name), credits=LedgerRepository(table_name),
                       account_jobs=account_jobs,
                       breakers=BreakerRepository(table_name), routing=load_routing(routing_document),
                       alarms=AlarmConsole(region=region, names=alarm_names)),
    ]
