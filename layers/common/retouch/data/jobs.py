"""Job items in DynamoDB. Every state change is a conditional write, so duplicates and races are harmless.

Unfinished jobs are also on the sparse `sweep` index (sweep_pk = UNFINISHED, sorted by `watch_at`), so the
sweeper finds stranded jobs with one query, never a scan; a job leaves the index when it ends.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError

from retouch.data.clients import aws_client
from retouch.data.cursors import end_user_index_key
from retouch.data.idempotency import key_of, key_taken, reservation_put
from retouch.data.items import is_condition_failure, record_attributes, to_item, to_value
from retouch.data.windows import count_in_window
from retouch.models.idempotency import IdempotencyRecord
from retouch.models.records import JobError, JobRecord, PendingCall, ProducedOutputs, StoredInput, UpstreamAttempt
from retouch.models.transitions import Cancel, FailUnfinished, Finish, JobEnd
from retouch.ports import SweepCandidate, WindowCount
from retouch.retry import CONFLICT_TRIES, conflict_backoff_seconds

SWEEP_INDEX = "sweep"
UNFINISHED = "UNFINISHED"
# A job that ends leaves the sweep index and drops what only a running job needs.
# (It stays on the sweep index until its hold's release is confirmed: see `end` and data/ledger.py.)
_ENDED_REMOVE = " REMOVE claim_token, lease_until, produced, pending_call"


def job_key(job_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"JOB#{job_id}"}, "sk": {"S": "JOB"}}


def job_item(record: JobRecord) -> dict[str, Any]:
    """The full item for a new job (also used inside transactions by the billing module)."""
    data = record.model_dump(mode="json", exclude_none=True)
    data.update(
        pk=f"JOB#{record.job_id}",
        sk="JOB",
        gsi1pk=f"ACCOUNT#{record.account_id}",
        gsi1sk=f"JOB#{record.created_at:012d}#{record.job_id}",
    )
    if not record.is_terminal:
        data.update(sweep_pk=UNFINISHED, watch_at=record.watch_at or record.created_at)
    if record.end_user is not None:
        data.update(end_user_index_key(record.account_id, record.end_user,
                                       f"JOB#{record.created_at:012d}#{record.job_id}"))
    return to_item(data)


def job_record(item: dict[str, Any]) -> JobRecord:
    return JobRecord.model_validate(record_attributes(item))


def _ended_at(transition: JobEnd) -> int:
    return transition.outcome.completed_at if isinstance(transition, Finish) else transition.now


def _end_update(table: str, transition: JobEnd) -> dict[str, Any]:
    """The bare conditional update of a terminal transition (SET clauses open, for `end` to extend)."""
    key = job_key(transition.job_id)
    if isinstance(transition, Finish):
        fields = {"status": transition.outcome.status, **transition.outcome.stored_fields()}
        names = {"#status": "status", **{f"#f{i}": name for i, name in enumerate(fields)}}
        values = {":running": {"S": "running"}, ":token": {"S": transition.token},
                  **{f":v{i}": to_value(value) for i, value in enumerate(fields.values())}}
        return {"TableName": table, "Key": key,
                "UpdateExpression": "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(fields))),
                "ConditionExpression": "#status = :running AND claim_token = :token",
                "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}
    if isinstance(transition, Cancel):
        # Only while nothing was produced: a job queued again after its images were stored (a retried finish) has
        # been paid for at the provider. Never before its hold is confirmed: there is nothing to give back yet.
        return {"TableName": table, "Key": key,
                "UpdateExpression": "SET #status = :canceled, completed_at = :now",
                "ConditionExpression": ("#status = :queued AND attribute_not_exists(produced) "
                                        "AND attribute_not_exists(hold_pending)"),
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {":canceled": {"S": "canceled"}, ":queued": {"S": "queued"},
                                              ":now": {"N": str(transition.now)}}}
    if isinstance(transition, FailUnfinished):
        return {"TableName": table, "Key": key,
                "UpdateExpression": "SET #status = :failed, #error = :error, completed_at = :now",
                # A running job is failed only once its worker's lease ran out: never under a live worker.
                "ConditionExpression": ("attribute_not_exists(hold_pending) AND "
                                        "(#status = :queued OR (#status = :running AND lease_until < :now))"),
                "ExpressionAttributeNames": {"#status": "status", "#error": "error"},
                "ExpressionAttributeValues": {":failed": {"S": "failed"}, ":queued": {"S": "queued"},
                                              ":running": {"S": "running"},
                                              ":error": to_value(transition.error.model_dump()),
                                              ":now": {"N": str(transition.now)}}}
    raise TypeError(f"not a job end: {transition!r}")


def _append_attempts(update: dict[str, Any], attempts: Sequence[UpstreamAttempt]) -> None:
    """Add "append `attempts` to upstream_attempts" to a claimed update (its SET clause, if any, comes first)."""
    append = "upstream_attempts = list_append(if_not_exists(upstream_attempts, :none), :attempts)"
    expression = update["UpdateExpression"]
    if expression.startswith("SET "):
        set_clause, _, rest = expression.partition(" REMOVE ")
        expression = f"{set_clause}, {append}" + (f" REMOVE {rest}" if rest else "")
    else:
        expression = f"SET {append}{expression}"
    update["UpdateExpression"] = expression
    update["ExpressionAttributeValues"].update({
        ":none": {"L": []}, ":attempts": {"L": [to_value(a.model_dump(mode="json")) for a in attempts]}})


class JobRepository:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or aws_client("dynamodb")

    def create(self, record: JobRecord, key: IdempotencyRecord | None = None) -> None:
        """A new job, with its Idempotency-Key if any. Job ids are drawn at random by the submit, so an item already
        under this id is this very write, committed on a try whose answer was lost (an SDK retry): done."""
        put = {"TableName": self._table, "Item": job_item(record), "ConditionExpression": "attribute_not_exists(pk)"}
        if key is None:
            try:
                self._client.put_item(**put)
            except ClientError as exc:
                if not is_condition_failure(exc):
                    raise
        else:
            self._with_key({"Put": put}, key)  # False: its job is there, the same transaction committed before

    def _with_key(self, item: dict[str, Any], key: IdempotencyRecord) -> bool:
        """`item` and the reservation of `key` as one transaction: False when `item`'s condition failed, KeyTaken
        when the key's did. Concurrent requests under the same key read and claim its item while this transaction
        runs, which cancels it with TransactionConflict (never retried by the SDK): it is tried again, with the same
        token, so a committed try is not applied twice (retouch.retry: CONFLICT_TRIES)."""
        token = uuid.uuid4().hex
        for attempt in range(CONFLICT_TRIES):
            try:
                self._client.transact_write_items(TransactItems=[item, reservation_put(self._table, key)],
                                                  ClientRequestToken=token)
                return True
            except ClientError as exc:
                reasons = exc.response.get("CancellationReasons") or []
                codes = [reason.get("Code") for reason in reasons]
                if codes[1:2] == ["ConditionalCheckFailed"]:
                    raise key_taken(reasons[1]) from exc
                if codes[:1] == ["ConditionalCheckFailed"]:
                    return False
                if "TransactionConflict" not in codes or attempt == CONFLICT_TRIES - 1:
                    raise
                time.sleep(conflict_backoff_seconds(attempt))
        raise AssertionError("unreachable")

    def get(self, job_id: str) -> JobRecord | None:
        response = self._client.get_item(TableName=self._table, Key=job_key(job_id), ConsistentRead=True)
        item = response.get("Item")
        return job_record(item) if item else None

    def claim(self, job_id: str, *, token: str, now: int, lease_until: int) -> JobRecord | None:
        """queued -> running, or take over a running job whose lease expired (its worker died)."""
        return self._claimed_record(dict(
            TableName=self._table,
            Key=job_key(job_id),
            UpdateExpression=(
                # sweep_pk again: a job written before the sweep index existed joins it at its next claim.
                "SET #status = :running, claim_token = :token, lease_until = :lease, watch_at = :lease, "
                "sweep_pk = :unfinished, "
                "started_at = if_not_exists(started_at, :now), attempts = if_not_exists(attempts, :zero) + :one"
            ),
            # A job whose hold is not confirmed yet is not runnable: the submit (or the sweeper) finishes it first.
            ConditionExpression=("attribute_not_exists(hold_pending) AND "
                                 "(#status = :queued OR (#status = :running AND lease_until < :now))"),
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":running": {"S": "running"},
                ":queued": {"S": "queued"},
                ":token": {"S": token},
                ":lease": {"N": str(lease_until)},
                ":now": {"N": str(now)},
                ":zero": {"N": "0"},
                ":one": {"N": "1"},
                ":unfinished": {"S": UNFINISHED},
            },
        ))

    def claim_poll(self, job_id: str, *, token: str, seq: int, lease_until: int) -> JobRecord | None:
        """A job waiting on an asynchronous upstream, claimed by the poll message numbered `seq` (not an attempt:
        the job was not started again). None when the job is not waiting on that poll."""
        return self._claimed_record(dict(
            TableName=self._table,
            Key=job_key(job_id),
            UpdateExpression="SET claim_token = :token, lease_until = :lease, watch_at = :lease",
            ConditionExpression="#status = :running AND attribute_not_exists(claim_token) "
                                "AND pending_call.seq = :seq",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":running": {"S": "running"}, ":token": {"S": token},
                                       ":lease": {"N": str(lease_until)}, ":seq": {"N": str(seq)}},
        ))

    def _claimed_record(self, update: dict[str, Any]) -> JobRecord | None:
        """The job as a conditional claim left it; None when the condition failed (not this delivery's to run)."""
        try:
            response = self._client.update_item(**update, ReturnValues="ALL_NEW")
        except ClientError as exc:
            if is_condition_failure(exc):
                return None
            raise
        return job_record(response["Attributes"])

    def _claimed_update(self, job_id: str, *, token: str, set_fields: dict[str, Any], remove: str = "",
                        ) -> dict[str, Any]:
        """An update of a job `running` under `token` (the claim): SET `set_fields`, then `remove`."""
        names = {"#status": "status"}
        values: dict[str, Any] = {":running": {"S": "running"}, ":token": {"S": token}}
        assignments = []
        for index, (name, value) in enumerate(set_fields.items()):
            names[f"#f{index}"] = name
            values[f":v{index}"] = to_value(value)
            assignments.append(f"#f{index} = :v{index}")
        return {
            "TableName": self._table,
            "Key": job_key(job_id),
            "UpdateExpression": "SET " + ", ".join(assignments) + remove,
            "ConditionExpression": "#status = :running AND claim_token = :token",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }

    def _conditional(self, update: dict[str, Any]) -> bool:
        try:
            self._client.update_item(**update)
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    def renew_lease(self, job_id: str, *, token: str, lease_until: int) -> bool:
        """The worker's heartbeat: still running under `token`, now leased until `lease_until`."""
        return self._conditional(self._claimed_update(
            job_id, token=token, set_fields={"lease_until": lease_until, "watch_at": lease_until}))

    def record_input_sizes(self, job_id: str, *, token: str, inputs: Sequence[StoredInput],
                           mask: StoredInput | None) -> bool:
        """Keep the inputs as measured (a URL input's size is known once fetched) on the claimed job, so every later
        delivery prices them alike (a poll that finishes the job, a resume after a crash)."""
        fields: dict[str, Any] = {"inputs": [i.model_dump(mode="json", exclude_none=True) for i in inputs]}
        if mask is not None:
            fields["mask"] = mask.model_dump(mode="json", exclude_none=True)
        return self._conditional(self._claimed_update(job_id, token=token, set_fields=fields))

    def record_produced(self, job_id: str, *, token: str, produced: ProducedOutputs,
                        attempts: Sequence[UpstreamAttempt] = ()) -> bool:
        """Checkpoint the stored outputs on the claimed job, so a re-run after a crash does not call the provider;
        `attempts` (the call that produced them, and any passed over before it) are appended in the same write."""
        update = self._claimed_update(job_id, token=token, set_fields={"produced": produced.model_dump(mode="json")})
        if attempts:
            _append_attempts(update, attempts)
        return self._conditional(update)

    def release_for_retry(self, job_id: str, *, token: str, error: JobError, retry_at: int) -> bool:
        """running -> queued after a transient failure; the queue redelivers it at `retry_at` (the backoff)."""
        return self._conditional(self._claimed_update(
            job_id, token=token, set_fields={"status": "queued", "error": error.model_dump(), "watch_at": retry_at,
                                             "sweep_pk": UNFINISHED},
            remove=" REMOVE claim_token, lease_until, pending_call"))

    def record_attempts(self, job_id: str, *, token: str, attempts: Sequence[UpstreamAttempt]) -> bool:
        """Append upstream calls, in order, to the claimed job's attempts (one write however many)."""
        update = self._claimed_update(job_id, token=token, set_fields={})
        update["UpdateExpression"] = ""
        _append_attempts(update, attempts)
        return self._conditional(update)

    def wait_for_poll(self, job_id: str, *, token: str, pending: PendingCall, lease_until: int) -> bool:
        """The claimed job waits on an asynchronous upstream: its handle stored, the claim released, watched (and
        claimable by any message but its poll's) only from `lease_until`."""
        return self._conditional(self._claimed_update(
            job_id, token=token, set_fields={"pending_call": pending.model_dump(mode="json"),
                                             "lease_until": lease_until, "watch_at": lease_until},
            remove=" REMOVE claim_token"))

    def end(self, transition: JobEnd, *, release_micros: int, key: IdempotencyRecord | None = None) -> bool:
        """The job's terminal transition (see models/transitions.py), recording `release_micros` (what its hold
        gives back) as `release_pending`: the job stays on the sweep index, watched from its end, until billing has
        moved the balance and confirmed the settle entry. With `key` (an Idempotency-Key), one transaction with its
        reservation: KeyTaken when the key is another request's. False when the transition's condition failed.

        The write carries a token of its own (`ended_by`): an SDK retry of a write that committed fails its
        condition, and finds its own token on the job, so it is still this call's success, not another's end."""
        token = uuid.uuid4().hex
        update = _end_update(self._table, transition)
        update["UpdateExpression"] += (", release_pending = :release, watch_at = :ended, ended_by = :ended_by"
                                       + _ENDED_REMOVE)
        update["ExpressionAttributeValues"] |= {":release": {"N": str(release_micros)},
                                               ":ended": {"N": str(_ended_at(transition))},
                                               ":ended_by": {"S": token}}
        if key is not None:
            return self._with_key({"Update": update}, key)  # its ClientRequestToken makes retries idempotent
        try:
            self._client.update_item(**update, ReturnValuesOnConditionCheckFailure="ALL_OLD")
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            item = exc.response.get("Item")  # ALL_OLD: the job as the failed condition saw it
            return isinstance(item, dict) and item.get("ended_by", {}).get("S") == token
        return True

    def discard_unheld(self, job: JobRecord) -> bool:
        """Delete a job whose hold was refused or never taken (hold_pending still set), and free its Idempotency-Key
        if it still names the job: a refused submit leaves nothing behind. False when the job is not waiting for its
        hold."""
        delete = {"TableName": self._table, "Key": job_key(job.job_id),
                  "ConditionExpression": "attribute_exists(hold_pending)"}
        if job.idempotency_key_hash is not None:
            free_key = {"TableName": self._table, "Key": key_of(job.account_id, job.idempotency_key_hash),
                        "ConditionExpression": "attribute_not_exists(pk) OR job_id = :job",
                        "ExpressionAttributeValues": {":job": {"S": job.job_id}}}
            try:
                self._client.transact_write_items(TransactItems=[{"Delete": delete}, {"Delete": free_key}],
                                                  ClientRequestToken=uuid.uuid4().hex)
                return True
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise
                codes = [reason.get("Code") for reason in exc.response.get("CancellationReasons") or []]
                if codes[:1] == ["ConditionalCheckFailed"]:
                    return False
                if codes[1:2] != ["ConditionalCheckFailed"]:
                    raise
                # the key names another job now (it expired and was taken): the job goes alone
        try:
            self._client.delete_item(**delete)
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    def tombstone(self, job_id: str, *, now: int) -> bool:
        """An ended job deleted by its owner: what described it (prompt, metadata, inputs, outputs, webhook) is
        removed and `deleted_at` set; what billing needs (account, model, times, hold and usage) stays, for usage
        reports and reconciliation. False when the job is not ended, or was deleted already."""
        removed = ("metadata", "inputs", "mask", "outputs", "result", "webhook", "error", "produced")
        names = {"#status": "status", "#request": "request", **{f"#r{i}": name for i, name in enumerate(removed)}}
        return self._conditional({
            "TableName": self._table,
            "Key": job_key(job_id),
            "UpdateExpression": "SET deleted_at = :now, #request = :nothing REMOVE "
                                + ", ".join(f"#r{i}" for i in range(len(removed))),
            "ConditionExpression": "#status IN (:succeeded, :failed, :canceled) AND attribute_not_exists(deleted_at)",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {":now": {"N": str(now)}, ":nothing": {"M": {}},
                                          ":succeeded": {"S": "succeeded"}, ":failed": {"S": "failed"},
                                          ":canceled": {"S": "canceled"}},
        })

    # ---- the sweeper ------------------------------------------------------------------------------------

    def due_for_sweep(self, *, before: int, limit: int, cursor: dict[str, Any] | None = None,
                      ) -> tuple[list[SweepCandidate], dict[str, Any] | None]:
        """Unfinished jobs whose `watch_at` is before `before`, oldest first, one page of the sparse index (which
        projects only what the sweeper decides on), and the key to go on from."""
        params: dict[str, Any] = {
            "TableName": self._table, "IndexName": SWEEP_INDEX, "Limit": limit,
            "KeyConditionExpression": "sweep_pk = :unfinished AND watch_at < :before",
            "ExpressionAttributeValues": {":unfinished": {"S": UNFINISHED}, ":before": {"N": str(before)}},
        }
        if cursor:
            params["ExclusiveStartKey"] = cursor
        response = self._client.query(**params)
        candidates = [SweepCandidate(job_id=item["job_id"]["S"], watch_at=int(item["watch_at"]["N"]),
                                     created_at=int(item["created_at"]["N"])) for item in response.get("Items", [])]
        return candidates, response.get("LastEvaluatedKey")

    def count_redelivery(self, job_id: str, window: int, limit: int) -> WindowCount:
        """Count one manual webhook redelivery in `window` on the job item: one conditional atomic update while the
        window is current and under `limit`; the first of a new window starts it (a second conditional update)."""
        if limit < 1:
            return WindowCount(0, False)
        counted = count_in_window(self._client.update_item, table=self._table, key=job_key(job_id),
                                  count="redeliveries", window_attr="redelivery_window", window=window,
                                  under=":limit", values={":limit": {"N": str(limit)}})
        if counted is not None and counted.item is not None:
            return WindowCount(counted.count, counted.admitted)
        return WindowCount(limit, False)  # no such job, or the window moved under every try: refuse

    def rewatch(self, job_id: str, *, seen_watch_at: int, watch_at: int) -> bool:
        """Move an unfinished job's `watch_at` on, only if nothing changed it since the sweeper read it."""
        return self._conditional({
            "TableName": self._table,
            "Key": job_key(job_id),
            "UpdateExpression": "SET watch_at = :new",
            "ConditionExpression": "attribute_exists(sweep_pk) AND watch_at = :seen",
            "ExpressionAttributeValues": {":new": {"N": str(watch_at)}, ":seen": {"N": str(seen_watch_at)}},
        })
