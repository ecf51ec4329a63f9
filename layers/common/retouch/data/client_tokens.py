"""Device-token items: `CLIENT_TOKEN#<token_id>` / `TOKEN` (TTL `expires_at`, a day after the token stops working).

The spend cap is held like the account's credit: one conditional UpdateItem per move, `holds` (job id -> micro-dollars)
making the hold and its release idempotent, the cap, the revocation and the expiry in the hold's own condition.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from retouch.data.clients import aws_client
from retouch.data.items import is_condition_failure, record_attributes, to_item
from retouch.models.client_tokens import ClientTokenRecord
from retouch.ports import SpendCapRefused


def token_key(token_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"CLIENT_TOKEN#{token_id}"}, "sk": {"S": "TOKEN"}}


def _record(item: dict[str, Any]) -> ClientTokenRecord:
    return ClientTokenRecord.model_validate(record_attributes(item))


class ClientTokenRepository:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or aws_client("dynamodb")

    def create(self, record: ClientTokenRecord) -> None:
        data = record.model_dump(mode="json", exclude_none=True) | {"pk": f"CLIENT_TOKEN#{record.token_id}",
                                                                    "sk": "TOKEN"}
        self._client.put_item(TableName=self._table, Item=to_item(data),
                              ConditionExpression="attribute_not_exists(pk)")

    def get(self, token_id: str) -> ClientTokenRecord | None:
        item = self._client.get_item(TableName=self._table, Key=token_key(token_id), ConsistentRead=True).get("Item")
        return _record(item) if item else None

    def revoke(self, account_id: str, token_id: str, now: int) -> bool:
        """False when the account has no such token."""
        try:
            self._client.update_item(
                TableName=self._table, Key=token_key(token_id),
                UpdateExpression="SET revoked_at = if_not_exists(revoked_at, :now)",
                ConditionExpression="account_id = :account",
                ExpressionAttributeValues={":now": {"N": str(now)}, ":account": {"S": account_id}})
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    def hold(self, token_id: str, job_id: str, micros: int, now: int) -> bool:
        """True when held now, False when held already; SpendCapRefused ("spend_cap", "revoked" or "expired")."""
        try:
            self._client.update_item(
                TableName=self._table, Key=token_key(token_id),
                UpdateExpression="SET committed_micros = committed_micros + :price, holds.#job = :price",
                ConditionExpression=("attribute_exists(pk) AND attribute_not_exists(revoked_at) AND valid_until > :now "
                                     "AND committed_micros <= :room AND attribute_not_exists(holds.#job)"),
                ExpressionAttributeNames={"#job": job_id},
                ExpressionAttributeValues={":price": {"N": str(micros)}, ":now": {"N": str(now)},
                                           ":room": {"N": str(self._room(token_id, micros))}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD")
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            item = exc.response.get("Item")
            current = _record(item) if isinstance(item, dict) else None
            if current is not None and job_id in current.holds:
                return False
            if current is None or current.revoked_at is not None:
                raise SpendCapRefused("revoked") from exc
            if current.valid_until <= now:
                raise SpendCapRefused("expired") from exc
            raise SpendCapRefused("spend_cap") from exc
        return True

    def _room(self, token_id: str, micros: int) -> int:
        """The most the token may have committed before holding `micros` (its cap is fixed when minted)."""
        item = self._client.get_item(TableName=self._table, Key=token_key(token_id),
                                     ProjectionExpression="spend_cap_micros").get("Item")
        cap = int(item["spend_cap_micros"]["N"]) if item else 0
        return cap - micros

    def release(self, token_id: str, job_id: str, micros_used: int) -> bool:
        """The job's hold ends having spent `micros_used`; False when it held nothing (released before)."""
        current = self.get(token_id)
        if current is None or job_id not in current.holds:
            return False
        unused = max(0, current.holds[job_id] - micros_used)
        try:
            self._client.update_item(
                TableName=self._table, Key=token_key(token_id),
                UpdateExpression="SET committed_micros = committed_micros - :unused REMOVE holds.#job",
                ConditionExpression="attribute_exists(holds.#job)",
                ExpressionAttributeNames={"#job": job_id}, ExpressionAttributeValues={":unused": {"N": str(unused)}})
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True
