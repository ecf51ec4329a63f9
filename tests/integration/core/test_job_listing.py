"""GET /v1/jobs through the status function on moto: newest first from the account's gsi1 partition (a Query, never
a scan), filtered, cursor-paged; cursors of another account, outside the time bounds, or edited by hand are a 400."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from retouch.data.jobs import JobRepository
from retouch.data.usage import AccountJobs
from retouch.models.records import JobRecord
from tests.builders import list_jobs_event, new_account_id, new_job_id
from tests.integration.core.aws_stack import Stack, client, json_body

T0 = 1_790_000_000


def given_jobs(stack: Stack, account_id: str, specs: list[tuple[str, str]]) -> list[str]:
    """Jobs of `account_id` created one second apart, oldest first, each (kind, status)."""
    repository = JobRepository(stack.table, client("dynamodb"))
    ids = []
    for offset, (kind, status) in enumerate(specs):
        record = JobRecord(job_id=new_job_id(), account_id=account_id, kind=kind, status=status,
                           model="gpt-image-2", request={"prompt": f"job {offset}"}, created_at=T0 + offset,
                           expires_at=T0 + 86400)
        repository.create(record)
        ids.append(record.job_id)
    return ids


def listed(stack: Stack, account_id: str, **params: Any) -> dict[str, Any]:
    response = stack.invoke("StatusFunction", list_jobs_event(account_id=account_id, **params))
    assert response["statusCode"] == 200, response["body"]
    return json_body(response)


def refused(stack: Stack, account_id: str, **params: Any) -> dict[str, Any]:
    response = stack.invoke("StatusFunction", list_jobs_event(account_id=account_id, **params))
    assert response["statusCode"] == 400, response["body"]
    return json_body(response)["error"]


def every_page(stack: Stack, account_id: str, **params: Any) -> list[list[str]]:
    pages, after = [], None
    while True:
        page = listed(stack, account_id, after=after, **params)
        pages.append([job["id"] for job in page["data"]])
        if not page["has_more"]:
            assert page.get("next_cursor") is None
            return pages
        after = page["next_cursor"]


def flat(pages: list[list[str]]) -> list[str]:
    return [job_id for page in pages for job_id in page]


def test_jobs_come_newest_first_in_pages_of_limit(stack: Stack) -> None:
    # Given an account with five jobs and another account with one
    account_id = new_account_id()
    ids = given_jobs(stack, account_id, [("generation", "succeeded")] * 5)
    given_jobs(stack, new_account_id(), [("generation", "succeeded")])

    # When they are listed two at a time, and with the default limit
    pages = every_page(stack, account_id, limit=2)
    whole = listed(stack, account_id)

    # Then every job of the account comes once, newest first, and no other account's
    assert pages == [ids[:2:-1], ids[2:0:-1], ids[:1]]
    assert [job["id"] for job in whole["data"]] == ids[::-1] and whole["has_more"] is False
    assert whole["object"] == "list" and whole["data"][0]["object"] == "image.job"


def test_filters_by_status_kind_and_creation_time(stack: Stack) -> None:
    # Given jobs of both kinds in several states, one second apart
    account_id = new_account_id()
    ids = given_jobs(stack, account_id, [("edit", "succeeded"), ("generation", "failed"), ("edit", "queued"),
                                         ("generation", "succeeded"), ("edit", "succeeded"),
                                         ("generation", "canceled")])

    # Then each filter, alone and together, selects exactly the matching jobs, newest first, across pages
    assert every_page(stack, account_id, status="succeeded", limit=1) == [[ids[4]], [ids[3]], [ids[0]]]
    assert flat(every_page(stack, account_id, kind="edit")) == [ids[4], ids[2], ids[0]]
    assert flat(every_page(stack, account_id, kind="edit", status="succeeded")) == [ids[4], ids[0]]
    assert flat(every_page(stack, account_id, created_after=T0 + 1, created_before=T0 + 4)) == [ids[3], ids[2]]
    assert listed(stack, account_id, created_after=T0 + 3, created_before=T0 + 4)["data"] == []


def test_an_unfiltered_page_is_one_query_of_the_index_and_never_a_scan(stack: Stack) -> None:
    # Given an account with 30 jobs, and a client that records what is asked of DynamoDB
    account_id = new_account_id()
    given_jobs(stack, account_id, [("generation", "succeeded")] * 30)
    calls: list[tuple[str, dict[str, Any]]] = []

    class Recording:
        def __getattr__(self, name: str) -> Any:
            def call(**params: Any) -> Any:
                calls.append((name, params))
                return getattr(client("dynamodb"), name)(**params)
            return call

    # When a page of 20 is read
    records, cursor = AccountJobs(stack.table, Recording()).page(account_id, limit=20)

    # Then it took one Query of gsi1's partition for the account, reading one job more than the page (to know
    # whether another page exists)
    assert len(records) == 20 and cursor is not None
    [(operation, params)] = calls
    assert operation == "query" and params["IndexName"] == "gsi1" and params["Limit"] == 21
    assert params["ExpressionAttributeValues"][":pk"] == {"S": f"ACCOUNT#{account_id}"}


def test_a_cursor_cannot_be_read_by_another_account_or_with_other_filters(stack: Stack) -> None:
    # Given a cursor from one account's listing of edits
    owner = new_account_id()
    given_jobs(stack, owner, [("edit", "succeeded")] * 3)
    cursor = listed(stack, owner, limit=1, kind="edit")["next_cursor"]

    # When another account presents it, or the owner with a time range it lies outside
    other = refused(stack, new_account_id(), after=cursor)
    outside = refused(stack, owner, after=cursor, created_before=T0)

    # Then both are a 400 naming `after`
    assert other["param"] == "after" and outside["param"] == "after"


def test_a_cursor_reads_on_with_the_request_s_own_filters_while_its_position_is_within_the_bounds(
        stack: Stack) -> None:
    # Given an account's five jobs, and a cursor after the newest from its unfiltered listing
    owner = new_account_id()
    ids = given_jobs(stack, owner, [("edit", "succeeded"), ("edit", "failed"), ("edit", "succeeded"),
                                    ("generation", "succeeded"), ("edit", "succeeded")])
    cursor = listed(stack, owner, limit=1)["next_cursor"]

    # When it is presented with another status filter, or with other bounds that still hold its position
    by_status = listed(stack, owner, after=cursor, status="succeeded")
    by_bounds = listed(stack, owner, after=cursor, created_after=T0 + 1, created_before=T0 + 9)
    # or with bounds its position lies outside
    outside = refused(stack, owner, after=cursor, created_before=T0 + 2)

    # Then the first two read on from its position under their own filters, and the last is a 400 saying the rule
    assert [job["id"] for job in by_status["data"]] == [ids[3], ids[2], ids[0]]
    assert [job["id"] for job in by_bounds["data"]] == [ids[3], ids[2]]
    assert outside["param"] == "after"
    assert "created_after/created_before" in outside["message"] and "may change" in outside["message"]


def _cursor(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


@pytest.mark.parametrize("forged", [
    "not-base64!", _cursor({"pk": {"S": "JOB#x"}}), _cursor([1, 2]),
    # a ledger position of the same account
    _cursor({"pk": {"S": "ACCOUNT#{a}"}, "sk": {"S": "LEDGER#x"}, "gsi1pk": {"S": "ACCOUNT#{a}"},
             "gsi1sk": {"S": "LEDGER#0001#x"}}),
    # a job position whose table key names another job than its index key
    _cursor({"pk": {"S": "JOB#job_" + "b" * 24}, "sk": {"S": "JOB"}, "gsi1pk": {"S": "ACCOUNT#{a}"},
             "gsi1sk": {"S": "JOB#001790000000#job_" + "a" * 24}}),
])
def test_forged_cursors_are_a_400_before_any_read(stack: Stack, forged: str) -> None:
    account_id = new_account_id()
    forged = forged if forged == "not-base64!" else _cursor(json.loads(
        base64.urlsafe_b64decode(forged).decode().replace("{a}", account_id)))
    assert refused(stack, account_id, after=forged)["param"] == "after"


@pytest.mark.parametrize(("params", "param"), [
    ({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"status": "done"}, "status"), ({"kind": "video"}, "kind"),
    ({"created_after": -1}, "created_after"), ({"created_before": "yesterday"}, "created_before"),
])
def test_bad_parameters_are_a_400_naming_them(stack: Stack, params: dict[str, Any], param: str) -> None:
    error = refused(stack, new_account_id(), **params)
    assert error["param"] == param and error["type"] == "invalid_request_error"


def test_a_filtered_page_reads_a_bounded_part_of_the_index(stack: Stack) -> None:
    # Given 200 generations and one edit, the oldest job
    account_id = new_account_id()
    [edit, *_] = given_jobs(stack, account_id, [("edit", "succeeded")] + [("generation", "succeeded")] * 200)

    # When edits are listed, Then a short page with a cursor comes back first, and following it finds the edit
    pages = every_page(stack, account_id, kind="edit", limit=5)
    assert pages[0] == [] and flat(pages) == [edit]


def test_a_page_of_large_jobs_stops_short_of_lambdas_response_limit_and_reads_on(stack: Stack,
                                                                                 account_id: str) -> None:
    # Given 12 jobs whose prompt and metadata take about 480 KB each once escaped as JSON (32,000 emoji and 16 values
    # of 512: each emoji is 12 bytes as \ud83d\ude00, more in Lambda's envelope), and a 13th small one
    repository = JobRepository(stack.table, client("dynamodb"))
    emoji = "\U0001F600"
    large = {"prompt": emoji * 32_000}
    metadata = {f"k{index}": emoji * 512 for index in range(16)}
    ids = []
    for offset in range(13):
        record = JobRecord(job_id=new_job_id(), account_id=account_id, kind="generation", status="succeeded",
                           model="gpt-image-2", request=large if offset else {"prompt": "small"},
                           metadata=metadata if offset else {}, created_at=T0 + offset, expires_at=T0 + 86400)
        repository.create(record)
        ids.append(record.job_id)

    # When they are listed 20 per page (the default) until the end
    pages = []
    after = None
    while True:
        response = stack.invoke("StatusFunction", list_jobs_event(account_id=account_id, after=after))
        # Then every answer fits Lambda's 6 MB response (its envelope, as the runtime sends it, included)
        assert response["statusCode"] == 200
        assert len(json.dumps(response)) < 6 * 1024 * 1024
        page = json_body(response)
        pages.append([job["id"] for job in page["data"]])
        if not page["has_more"]:
            break
        after = page["next_cursor"]

    # And the pages are shorter than asked, yet read on to every job once, newest first
    assert len(pages) > 1 and all(0 < len(page) < 13 for page in pages)
    assert flat(pages) == list(reversed(ids))
