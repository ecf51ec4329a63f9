"""In-memory implementations of every port in retouch.ports, shared by all unit tests.

Each module ends with annotated assignments that make mypy check its fakes against their Protocols, and
tests/integration/core/test_fake_contract.py runs the same scenarios on the fakes and on moto.
"""

from tests.fakes.accounts import FakeAccountRepository
from tests.fakes.jobs import Announced, FakeIdempotencyStore, FakeJobRepository, FakeWebhookLog, no_events
from tests.fakes.ledger import (
    FakeAccountJobs,
    FakeLedger,
    FakeLedgerReader,
    FakeReadCounter,
    account,
    billing_over,
    job,
)
from tests.fakes.partials import FakeJobPartials
from tests.fakes.provider import FakeUrls, ProviderCall, RecordingResolver, ScriptedProvider, public_resolver, rendered
from tests.fakes.queues import FakeJobQueue, FakeWebhookQueue
from tests.fakes.slots import FakeAccountSlots
from tests.fakes.storage import FakeFileRepository, FakeObjectStore, StoredObject
from tests.fakes.webhooks import FakeSettings, no_webhook

__all__ = [
    "Announced",
    "FakeAccountJobs",
    "FakeAccountRepository",
    "FakeAccountSlots",
    "FakeFileRepository",
    "FakeIdempotencyStore",
    "FakeJobPartials",
    "FakeJobQueue",
    "FakeJobRepository",
    "FakeLedger",
    "FakeLedgerReader",
    "FakeObjectStore",
    "FakeReadCounter",
    "FakeSettings",
    "FakeUrls",
    "FakeWebhookLog",
    "FakeWebhookQueue",
    "ProviderCall",
    "RecordingResolver",
    "ScriptedProvider",
    "StoredObject",
    "account",
    "billing_over",
    "job",
    "no_events",
    "no_webhook",
    "public_resolver",
    "rendered",
]
