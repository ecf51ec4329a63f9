"""The admin tool's collaborators (retouch-admin and its `webhooks` commands, the local stack's seeding), built for
the table it is pointed at (--table, RETOUCH_TABLE_NAME) rather than from a function's settings.

Built afresh on each call, not cached: a command runs once per process, and the tests run many commands against
fresh tables in one process."""

from __future__ import annotations

from retouch.data.account_directory import AccountDirectoryRepository
from retouch.data.accounts import AccountRepository
from retouch.data.console_identity import CognitoIdentity
from retouch.data.console_operators import CognitoOperators
from retouch.data.console_people import PeopleRepository
from retouch.data.ledger import LedgerRepository
from retouch.data.payments import PaymentRepository
from retouch.data.usage import AccountJobs
from retouch.data.webhooks import WebhookSettingsRepository


def account_directory(table_name: str) -> AccountDirectoryRepository:
    """The account directory the console's operator pages list (retouch-admin index-accounts fills in old accounts)."""
    return AccountDirectoryRepository(table_name)


def accounts(table_name: str) -> AccountRepository:
    return AccountRepository(table_name)


def ledger(table_name: str) -> LedgerRepository:
    """The ledger with its account items: balances, limits and status, and reading the ledger back."""
    return LedgerRepository(table_name)


def account_jobs(table_name: str) -> AccountJobs:
    return AccountJobs(table_name)


def webhook_settings(table_name: str) -> WebhookSettingsRepository:
    return WebhookSettingsRepository(table_name)


def payments(table_name: str) -> PaymentRepository:
    """Payments and the ledger they move (retouch-admin payments, reconcile)."""
    return PaymentRepository(table_name)


def console_operators(user_pool_id: str) -> CognitoOperators:
    """The console's user pool, for making operators (retouch-admin console)."""
    return CognitoOperators(user_pool_id)


def console_people(table_name: str, user_pool_id: str, client_id: str) -> tuple[CognitoIdentity, PeopleRepository]:
    """Who signs in and who belongs where, for the local stack's seeded operator."""
    return CognitoIdentity(user_pool_id, client_id), PeopleRepository(table_name)
