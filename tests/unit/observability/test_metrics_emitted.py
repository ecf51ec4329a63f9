"""The metrics each path emits, read back from the EMF lines Powertools prints (what CloudWatch would ingest)."""

from __future__ import annotations

import ast
import contextlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from aws_lambda_powertools import Logger

from retouch.errors import ConcurrencyLimited, InsufficientCredits, InvalidRequest, RateLimited, RetouchError
from retouch.jobs.abandoned import end_abandoned_job
from retouch.jobs.cancel import CancelDeps, cancel_job
from retouch.jobs.process import WorkerDeps, run_job
from retouch.jobs.submit import SubmitDeps, submit_generation
from retouch.jobs.upstream_calls import Upstream
from retouch.models.requests import GenerationRequest
from retouch.observability import metric_names as names
from retouch.observability import metrics as observability_metrics
from retouch.observability.metrics import request_refused
from retouch.providers.base import ProviderAuthFailed, ProviderRefused, ProviderUnavailable
from retouch.providers.credentials import usable_key
from retouch.retry import RedeliverLater
from retouch.webhooks.delivery import handle_webhook_message
from tests.builders import admission_for, queued_job
from tests.emf import Emitted
from tests.fakes import (
    Announced,
    FakeJobQueue,
    FakeJobRepository,
    ScriptedProvider,
    billing_over,
    no_events,
    rendered,
)
from tests.fakes.routing import ProviderUpstream
from tests.fakes.wiring import cancel_deps_over
from tests.unit.webhooks.builders import delivery_setup as webhook_setup

Build = Callable[..., WorkerDeps]
HELD = 6_000  # one low 1024x1024 image
SERVICE = (("service", names.SERVICE),)


@pytest.fixture
def cancel_deps(jobs: FakeJobRepository, queue: FakeJobQueue) -> CancelDeps:
    return cancel_deps_over(jobs=jobs, queue=queue, announce=Announced())


def test_a_submitted_job_counts_once_and_its_id_correlates_the_lines_after(
        submit_deps: SubmitDeps, emitted: Callable[[], Emitted]) -> None:
    # Given an accepted generation request
    admission = admission_for(submit_deps.billing.ledger, "acct_" + "m" * 20)
    job = submit_generation(admission, GenerationRequest(model="gpt-image-2", prompt="p"), submit_deps)

    # When a later line of the same invocation is logged
    Logger(child=True).info("after submit")

    # Then JobsSubmitted is 1 and that line carries the job id as its correlation id
    result = emitted()
    assert result(names.JOBS_SUBMITTED) == 1
    [line] = [log for log in result.logs if log.get("message") == "after submit"]
    assert (line["correlation_id"], line["account_id"]) == (job.job_id, job.account_id)


def test_a_succeeded_job_counts_its_start_wait_provider_call_and_success(
        jobs: FakeJobRepository, worker_deps: Build, emitted: Callable[[], Emitted]) -> None:
    # Given a queued job holding its price, and a provider that answers
    job = queued_job(jobs, reserved_micros=HELD, markup_percent=0)
    deps = worker_deps(ScriptedProvider(rendered()))

    # When the worker runs it
    assert run_job(job.job_id, deps) == "succeeded"

    # Then started, waited, one call to the (unnamed) upstream, succeeded after one attempt, charged what was settled
    result = emitted()
    [settle] = deps.billing.ledger.entries
    assert settle.charged_micros > 0 and result(names.COST_CHARGED) == settle.charged_micros
    assert result(names.JOBS_STARTED) == 1 and result(names.JOBS_SUCCEEDED) == 1
    assert result(names.PROVIDER_CALLS) == 1 and result(names.PROVIDER_ATTEMPTS) == 1
    assert result(names.PROVIDER_CALLS, upstream="openai") == 1
    assert {names.PROVIDER_LATENCY, names.QUEUE_WAIT} <= result.names and (names.QUEUE_WAIT, SERVICE) in result.totals
    assert result(names.PROVIDER_FAILURES) == 0 and result(names.JOBS_FAILED) == 0


def test_a_refused_job_counts_as_failed_by_its_code_not_as_a_provider_failure(
        jobs: FakeJobRepository, worker_deps: Build, emitted: Callable[[], Emitted]) -> None:
    # Given a job the provider refuses for safety
    job = queued_job(jobs)

    # When the worker runs it
    run_job(job.job_id, worker_deps(ScriptedProvider(ProviderRefused("provider_safety_refusal", "blocked"))))

    # Then one failure, by its code too; the provider answered, so it was no provider failure
    result = emitted()
    assert result(names.JOBS_FAILED) == 1
    assert result(names.JOBS_FAILED, error_code="provider_safety_refusal") == 1
    assert result(names.PROVIDER_CALLS) == 1 and result(names.PROVIDER_FAILURES) == 0


def test_an_unavailable_provider_counts_a_provider_failure_and_no_end(
        jobs: FakeJobRepository, worker_deps: Build, emitted: Callable[[], Emitted]) -> None:
    # Given a job whose provider answers 503
    job = queued_job(jobs)

    # When the worker runs it (and releases it for a retry)
    with pytest.raises(RedeliverLater):
        run_job(job.job_id, worker_deps(ScriptedProvider(ProviderUnavailable("provider_error", "503"))))

    # Then a failed call, by upstream too, and the job did not end
    result = emitted()
    assert result(names.PROVIDER_FAILURES) == 1 and result(names.PROVIDER_FAILURES, upstream="openai") == 1
    assert result(names.JOBS_FAILED) == 0 and result(names.JOBS_SUCCEEDED) == 0


def test_a_refused_key_ends_the_job_provider_auth_failed_at_once(
        jobs: FakeJobRepository, worker_deps: Build, emitted: Callable[[], Emitted]) -> None:
    # Given a job holding its price on its first attempt, and a provider that refuses our key (401), with attempts to
    # spare
    job = queued_job(jobs, reserved_micros=HELD, markup_percent=0)
    provider = ScriptedProvider(ProviderAuthFailed("openai rejected the credentials (HTTP 401)"))
    deps = worker_deps(provider, max_attempts=4)

    # When the worker runs it
    outcome = run_job(job.job_id, deps)

    # Then it ends failed provider_auth_failed on that attempt (no retry), and the alarm's metric is 1
    stored = jobs.get(job.job_id)
    assert outcome == "failed" and stored is not None and stored.status == "failed"
    assert stored.error is not None and stored.error.code == names.PROVIDER_AUTH_FAILED
    assert len(provider.calls) == 1 and stored.attempts == 1
    # And its whole hold was released, nothing charged
    [settle] = deps.billing.ledger.entries
    assert (settle.charged_micros, settle.released_micros, settle.outcome) == (0, HELD, "failed")
    result = emitted()
    assert result(names.JOBS_FAILED, error_code=names.PROVIDER_AUTH_FAILED) == 1
    assert result(names.PROVIDER_FAILURES) == 1 and result(names.COST_CHARGED) == 0


@pytest.mark.parametrize("key", ["replace-me", "", "  ", "REPLACE-ME"])
def test_a_placeholder_key_ends_the_job_provider_auth_failed_before_any_call(
        key: str, jobs: FakeJobRepository, worker_deps: Build, emitted: Callable[[], Emitted]) -> None:
    # Given the worker's upstream factory checking the secret's value, which is a placeholder
    job = queued_job(jobs)
    unused = ScriptedProvider()

    def adapter() -> ProviderUpstream:
        usable_key(key, "openai")
        return ProviderUpstream(unused)

    deps = worker_deps(unused)
    only_route = [Upstream(name="openai", adapter=adapter)]
    deps = replace(deps, routing=replace(deps.routing, upstreams=lambda _model: only_route))

    # When the worker runs the job
    outcome = run_job(job.job_id, deps)

    # Then it ends provider_auth_failed at once, the provider never called, and the message names no key
    stored = jobs.get(job.job_id)
    assert outcome == "failed" and stored is not None and stored.error is not None
    assert stored.error.code == names.PROVIDER_AUTH_FAILED and "placeholder" in stored.error.message
    assert unused.calls == []
    assert emitted()(names.JOBS_FAILED, error_code=names.PROVIDER_AUTH_FAILED) == 1


def test_a_real_key_is_used_as_it_is() -> None:
    assert usable_key("sk-live-abc", "image provider") == "sk-live-abc"


def test_a_canceled_job_counts_once(cancel_deps: CancelDeps, jobs: FakeJobRepository,
                                    emitted: Callable[[], Emitted]) -> None:
    job = queued_job(jobs)
    cancel_job(job.account_id, job.job_id, cancel_deps)
    result = emitted()
    assert result(names.JOBS_CANCELED) == 1 and result(names.JOBS_FAILED) == 0


def test_a_dead_lettered_job_counts_as_failed_processing_failed(jobs: FakeJobRepository,
                                                                emitted: Callable[[], Emitted]) -> None:
    job = queued_job(jobs)
    assert end_abandoned_job(job.job_id, billing_over(jobs), no_events)
    assert emitted()(names.JOBS_FAILED, error_code="processing_failed") == 1


@pytest.mark.parametrize("status, delivered, failed", [(200, 1, 0), (500, 0, 1), (410, 0, 1)])
def test_each_webhook_attempt_counts_as_delivered_or_failed(status: int, delivered: int, failed: int,
                                                            emitted: Callable[[], Emitted]) -> None:
    # Given an event whose receiver answers `status`
    message, deps, *_ = webhook_setup(status)

    # When the webhook function attempts it
    with contextlib.suppress(RedeliverLater):
        handle_webhook_message(message, 1, "receipt", deps)

    # Then the attempt is counted as what it was
    result = emitted()
    assert (result(names.WEBHOOK_DELIVERIES), result(names.WEBHOOK_FAILURES)) == (delivered, failed)


def test_webhook_lines_carry_the_events_job_id(emitted: Callable[[], Emitted]) -> None:
    message, deps, *_ = webhook_setup(200)
    handle_webhook_message(message, 1, "receipt", deps)
    [line] = [log for log in emitted().logs if log.get("message") == "webhook delivered"]
    assert (line["correlation_id"], line["account_id"]) == (message.job_id, message.account_id)


@pytest.mark.parametrize("error, metric", [
    (InsufficientCredits("no credit"), names.CREDIT_REFUSALS),
    (RateLimited("slow down", retry_after_seconds=5), names.RATE_LIMITED),
    (ConcurrencyLimited("too many", retry_after_seconds=5), names.RATE_LIMITED),
])
def test_credit_and_rate_refusals_are_counted(error: RetouchError, metric: str, emitted: Callable[[], Emitted]) -> None:
    request_refused(error)
    assert emitted().totals == {(metric, SERVICE): 1}


def test_other_domain_errors_count_nothing(emitted: Callable[[], Emitted]) -> None:
    request_refused(InvalidRequest("bad"))
    assert emitted().totals == {}


def test_the_module_emits_every_named_metric_and_nothing_else() -> None:
    """Every metric in metric_names (the template's alarms and dashboard read them) has an emission point, and every
    emission names its metric from metric_names (no literal names)."""
    source = Path(observability_metrics.__file__).read_text()
    tree = ast.parse(source)
    used = {getattr(names, node.attr) for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "names"}
    assert used & names.ALL_METRICS == names.ALL_METRICS
    literal_names = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)
                     and isinstance(node.value, str) and node.value[:1].isupper() and node.value.isidentifier()}
    assert not literal_names & names.ALL_METRICS
