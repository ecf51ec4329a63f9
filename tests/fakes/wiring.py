"""Domain dependencies wired over the fakes the way retouch.wiring wires the real adapters, shared by every unit
test that submits, runs or cancels a job (the fixtures in tests/unit/conftest.py build on these)."""

from __future__ import annotations

from collections.abc import Callable

from retouch.billing.charges import JobBilling
from retouch.billing.prices import price_table
from retouch.jobs.cancel import CancelDeps
from retouch.jobs.fetch_share import FetchShare
from retouch.jobs.process import LEASE_MARGIN_SECONDS, WorkerDeps
from retouch.jobs.submit import SubmitDeps
from retouch.ports import IdempotencyStore
from retouch.routing.document import load_routing
from retouch.routing.support import UpstreamSupport
from tests.fakes.jobs import FakeJobRepository, no_events
from tests.fakes.ledger import FakeLedger, account, billing_over
from tests.fakes.provider import FakeUrls, ScriptedProvider
from tests.fakes.queues import FakeJobQueue
from tests.fakes.routing import routing_deps
from tests.fakes.slots import FakeAccountSlots
from tests.fakes.storage import FakeFileRepository, FakeObjectStore
from tests.fakes.webhooks import no_webhook

LEASE_SECONDS = 120

# The `worker_deps` fixture: WorkerDeps around a given provider.
Build = Callable[..., WorkerDeps]


def submit_deps_over(*, jobs: FakeJobRepository, store: FakeObjectStore, queue: FakeJobQueue,
                     files: FakeFileRepository, keys: IdempotencyStore | None = None) -> SubmitDeps:
    """SubmitDeps as the api wires them, over these fakes: billed (FakeLedger over `jobs`), no webhooks."""
    return SubmitDeps(jobs=jobs, store=store, queue=queue, files=files, billing=billing_over(jobs),
                      webhook_for=no_webhook, upstream_support=UpstreamSupport(load_routing("default.json")), keys=keys)


def fetch_share_over(queue: FakeJobQueue, *, per_account: int = 2, fetch_seconds: float = 20) -> FetchShare:
    """Each account's share of the fetching workers, over in-memory slots; deferred jobs go back on `queue`."""
    return FetchShare(slots=FakeAccountSlots(per_account), fetch_seconds=fetch_seconds,
                      queue=queue)


def worker_deps_over(*, jobs: FakeJobRepository, store: FakeObjectStore, urls: FakeUrls, queue: FakeJobQueue,
                     provider: ScriptedProvider, max_attempts: int = 4, retry_base_seconds: float = 10,
                     lease_seconds: int = LEASE_SECONDS) -> WorkerDeps:
    """WorkerDeps as the worker wires them, every model routed to `provider`."""
    return WorkerDeps(jobs=jobs, store=store, routing=routing_deps([provider], jobs.record_attempts),
                      schedule_poll=queue.send_poll, fetch_url=urls,
                      max_attempts=max_attempts, retry_base_seconds=retry_base_seconds,
                      lease_seconds=lease_seconds, announce=no_events, billing=billing_over(jobs),
                      fetch_share=fetch_share_over(queue))


def cancel_deps_over(*, jobs: FakeJobRepository, queue: FakeJobQueue, announce: Callable[..., None]) -> CancelDeps:
    # Jobs here hold no credit (billing's own tests and the moto tier cover the release); the job's state change is
    # the repository's conditional cancel.
    billing = JobBilling(ledger=FakeLedger(account(), jobs=jobs), jobs=jobs, prices=price_table())
    return CancelDeps(jobs=jobs, billing=billing, queue=queue, keys=jobs.keys, announce=announce)


def claimed(receipt: str) -> tuple[str, int]:
    """The visibility change a claim makes at once: from the queue's long timeout down to the lease."""
    return receipt, LEASE_SECONDS + LEASE_MARGIN_SECONDS
