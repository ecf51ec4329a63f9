"""Submitting as the api function does, minus HTTP (parse, then submit), and what a refused submit must leave
behind: nothing. Shared by the submission-rule tests here and routing's upstream-support tests."""

from __future__ import annotations

from typing import Any

import pytest

from retouch.errors import RetouchError
from retouch.jobs.submit import SubmitDeps, submit_edit, submit_generation
from retouch.models.records import JobRecord
from retouch.web.request_parsing import parse_edit, parse_generation
from tests.builders import admission_for
from tests.fakes import FakeJobQueue, FakeJobRepository, FakeObjectStore

MAX_BODY = 64 * 1024 * 1024


def submit(event: dict[str, Any], deps: SubmitDeps, account_id: str) -> JobRecord:
    """What the api function does for a POST, minus HTTP: parse, then submit."""
    if event["rawPath"].endswith("/edits"):
        return submit_edit(admission_for(deps.billing.ledger, account_id), parse_edit(event, MAX_BODY), deps)
    return submit_generation(admission_for(deps.billing.ledger, account_id), parse_generation(event, MAX_BODY), deps)


def refused(event: dict[str, Any], deps: SubmitDeps, account_id: str) -> RetouchError:
    with pytest.raises(RetouchError) as caught:
        submit(event, deps, account_id)
    return caught.value


def assert_nothing_left(jobs: FakeJobRepository, store: FakeObjectStore, queue: FakeJobQueue) -> None:
    assert jobs.items == {}
    assert store.objects == {}
    assert queue.sent == []
