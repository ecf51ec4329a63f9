"""The sweeper function, invoked with the recorded scheduled event against moto: stranded jobs run or end."""

from __future__ import annotations

from typing import Any

from retouch.data.ledger import LedgerRepository
from tests.builders import load_event
from tests.integration.core.aws_stack import Stack, client
from tests.integration.core.test_job_lifecycle import failures, submit_generation, unique

SWEEPER = "SweeperFunction"
# The template's defaults: stranded once 300 s past due; ended instead once created 7200 s ago.
GRACE, GIVE_UP = 300, 7200


def backdate(stack: Stack, job_id: str, seconds: int) -> None:
    """As if the job had been submitted (and last watched) `seconds` ago."""
    item = stack.job_item(job_id)
    assert item is not None
    client("dynamodb").update_item(
        TableName=stack.table, Key={"pk": {"S": f"JOB#{job_id}"}, "sk": {"S": "JOB"}},
        UpdateExpression="SET created_at = :c, watch_at = :w",
        ExpressionAttributeValues={":c": {"N": str(item["created_at"] - seconds)},
                                   ":w": {"N": str(item["watch_at"] - seconds)}})


def account_state(account_id: str, stack: Stack) -> Any:
    account, _ = LedgerRepository(stack.table, client("dynamodb")).account_with_ledger(account_id)
    return account


def test_a_job_whose_message_was_lost_is_queued_again_and_runs(stack: Stack, account_id: str) -> None:
    # Given a job whose message is gone (purged: the send failed after the job was written) for 10 minutes
    job_id = submit_generation(stack, account_id, prompt=unique("lost message"))
    stack.purge_queues()
    backdate(stack, job_id, GRACE + 300)

    # When the sweeper runs on its schedule
    report = stack.invoke(SWEEPER, load_event("scheduled_sweep.json"))

    # Then it queued the job again, and the worker runs it to success
    assert report["requeued"] >= 1
    _, response = stack.run_worker_once()
    assert failures(response) == []
    item = stack.job_item(job_id)
    assert item["status"] == "succeeded"
    # And it left the sweep index, so no later run can queue it again
    assert "sweep_pk" not in item and "watch_at" not in item


def test_a_stranded_job_too_old_to_run_is_ended_and_its_hold_released(stack: Stack, account_id: str) -> None:
    # Given a job stranded since it was submitted three hours ago, holding credit
    before = account_state(account_id, stack)
    job_id = submit_generation(stack, account_id, prompt=unique("too old"))
    stack.purge_queues()
    backdate(stack, job_id, GIVE_UP + 3600)
    assert account_state(account_id, stack).in_flight == before.in_flight + 1

    # When the sweeper runs
    report = stack.invoke(SWEEPER, load_event("scheduled_sweep.json"))

    # Then the job ended failed with a code, off the sweep index, and its whole hold came back
    assert report["ended"] >= 1
    item = stack.job_item(job_id)
    assert item["status"] == "failed" and item["error"]["code"] == "job_stalled"
    assert "sweep_pk" not in item and "watch_at" not in item
    after = account_state(account_id, stack)
    assert (after.balance_micros, after.in_flight) == (before.balance_micros, before.in_flight)
