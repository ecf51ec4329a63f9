"""The console's people in the table: who belongs to which account, and open invitations.

    CONSOLE_USER#<user sub>     / USER     gsi1: ACCOUNT#<account_id> / MEMBER#<user sub>    account_id, email, role
    CONSOLE_INVITE#<email>      / INVITE   gsi1: ACCOUNT#<account_id> / INVITE#<email>       expires_at (TTL)

A self-serve account is written with its owner's membership and its sign-up credit's ledger entry in one transaction,
each put conditional on not existing, so a retried verification writes nothing twice.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from retouch.console.ports import InviteGone, InviteTaken, NewAccount, PersonTaken
from retouch.data.accounts import directory_item
from retouch.data.clients import aws_client
from retouch.data.items import is_condition_failure, record_attributes, to_item
from retouch.data.ledger import ledger_item
from retouch.models.console import InviteRecord, MemberRecord


def member_key(user_sub: str) -> dict[str, Any]:
    return {"pk": {"S": f"CONSOLE_USER#{user_sub}"}, "sk": {"S": "USER"}}


def invite_key(email: str) -> dict[str, Any]:
    return {"pk": {"S": f"CONSOLE_INVITE#{email}"}, "sk": {"S": "INVITE"}}


def _member_item(member: MemberRecord) -> dict[str, Any]:
    return to_item(member.model_dump(mode="json") | {
        "pk": f"CONSOLE_USER#{member.user_sub}", "sk": "USER",
        "gsi1pk": f"ACCOUNT#{member.account_id}", "gsi1sk": f"MEMBER#{member.user_sub}"})


def _not_exists(item: dict[str, Any], table: str) -> dict[str, Any]:
    return {"Put": {"TableName": table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}


class PeopleRepository:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or aws_client("dynamodb")

    def member(self, user_sub: str) -> MemberRecord | None:
        item = self._client.get_item(TableName=self._table, Key=member_key(user_sub), ConsistentRead=True).get("Item")
        return MemberRecord.model_validate(record_attributes(item)) if item else None

    def members(self, account_id: str) -> list[MemberRecord]:
        return [MemberRecord.model_validate(record_attributes(item))
                for item in self._account_index(account_id, "MEMBER#")]

    def create_account(self, new: NewAccount) -> None:
        account = to_item(new.account.model_dump(mode="json") | {"pk": f"ACCOUNT#{new.account.account_id}",
                                                                 "sk": "ACCOUNT"})
        items = [_not_exists(_member_item(new.owner), self._table), _not_exists(account, self._table),
                 {"Put": {"TableName": self._table, "Item": directory_item(new.account)}}]  # data/account_directory
        if new.credit is not None:
            items.append(_not_exists(ledger_item(new.credit), self._table))
        if self._transact(items):
            raise PersonTaken(new.owner.user_sub)

    def add_member(self, member: MemberRecord) -> None:
        try:
            self._client.put_item(TableName=self._table, Item=_member_item(member),
                                  ConditionExpression="attribute_not_exists(pk)")
        except ClientError as exc:
            if is_condition_failure(exc):
                raise PersonTaken(member.user_sub) from exc
            raise

    def join(self, member: MemberRecord, invite: InviteRecord) -> None:
        reasons = self._transact([
            _not_exists(_member_item(member), self._table),
            {"Delete": {"TableName": self._table, "Key": invite_key(invite.email),
                        "ConditionExpression": "account_id = :account",
                        "ExpressionAttributeValues": {":account": {"S": invite.account_id}}}},
        ])
        if reasons:
            if reasons[0] == "ConditionalCheckFailed":
                raise PersonTaken(member.user_sub)
            raise InviteGone(invite.email)

    def remove(self, member: MemberRecord) -> None:
        self._client.delete_item(TableName=self._table, Key=member_key(member.user_sub),
                                 ConditionExpression="account_id = :account",
                                 ExpressionAttributeValues={":account": {"S": member.account_id}})

    def invite(self, invite: InviteRecord) -> None:
        try:
            self._client.put_item(
                TableName=self._table, Item=to_item(invite.model_dump(mode="json") | {
                    "pk": f"CONSOLE_INVITE#{invite.email}", "sk": "INVITE",
                    "gsi1pk": f"ACCOUNT#{invite.account_id}", "gsi1sk": f"INVITE#{invite.email}"}),
                # Another account's live invitation is not replaced (the TTL removes expired ones late).
                ConditionExpression="attribute_not_exists(pk) OR account_id = :account OR expires_at <= :now",
                ExpressionAttributeValues={":account": {"S": invite.account_id}, ":now": {"N": str(invite.created_at)}})
        except ClientError as exc:
            if is_condition_failure(exc):
                raise InviteTaken(invite.email) from exc
            raise

    def invitation(self, email: str, now: int) -> InviteRecord | None:
        item = self._client.get_item(TableName=self._table, Key=invite_key(email), ConsistentRead=True).get("Item")
        invite = InviteRecord.model_validate(record_attributes(item)) if item else None
        return invite if invite is not None and invite.expires_at > now else None

    def invitations(self, account_id: str, now: int) -> list[InviteRecord]:
        found = [InviteRecord.model_validate(record_attributes(item))
                 for item in self._account_index(account_id, "INVITE#")]
        return [invite for invite in found if invite.expires_at > now]

    def _account_index(self, account_id: str, prefix: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        request: dict[str, Any] = {
            "TableName": self._table, "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :account AND begins_with(gsi1sk, :prefix)",
            "ExpressionAttributeValues": {":account": {"S": f"ACCOUNT#{account_id}"}, ":prefix": {"S": prefix}}}
        while True:
            response = self._client.query(**request)
            items.extend(response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return items
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _transact(self, items: list[dict[str, Any]]) -> list[str]:
        """[] when written; else each item's cancellation code ("None" for those that were not the cause)."""
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            return [str(reason.get("Code")) for reason in exc.response.get("CancellationReasons") or []] or ["?"]
        return []
