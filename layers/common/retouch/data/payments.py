"""Payments in DynamoDB: each credit or reversal moves the balance in ONE transaction with its ledger entry, the
payment record and the Stripe event's record, so a payment is credited exactly once however Stripe redelivers or
reorders its events (payments/webhook.py says which event does what):

    PAYMENT#<payment_id> / PAYMENT        the payment (pi_…): amount credited, refunded, disputed, receipt;
                                          gsi1: ACCOUNT#<id> / PAYMENT#<at_ms>#<payment_id> once credited
    STRIPE_EVENT#<event_id> / EVENT       an event that moved a balance (the event-id key), kept 30 days
    ACCOUNT#<id> / LEDGER#top_up_<payment_id>                  the credit (the payment-id key)
    ACCOUNT#<id> / LEDGER#refund_<payment_id>_<refunded>       a refund, keyed by the cumulative amount refunded
    ACCOUNT#<id> / LEDGER#dispute_<dispute_id>                 a dispute

Every part of a move is conditional: the entry and the event record must not exist, the payment must not be credited
yet (a credit) or must still show the amounts the reversal was computed from (a reversal). A redelivered event fails
the event's condition, a second event about the same payment the payment's: nothing is written either way. The
account item is only updated (never conditioned on its balance), so a move never waits on the job path's holds;
a transaction that meets one in flight is tried again (`_transact_with_account`).
"""

from __future__ import annotations

from typing import Any

from retouch.data.account_state import account_key
from retouch.data.cursors import decode_cursor, encode_cursor
from retouch.data.items import record_attributes, to_value
from retouch.data.ledger import LedgerRepository, ledger_item
from retouch.data.recharge import recharge_key
from retouch.models.account_records import LedgerEntry
from retouch.models.payments import PaymentRecord
from retouch.payments.ports import Applied, PaymentCredit, PaymentNotCredited, PaymentReceipt, PaymentReversal
from retouch.retry import PAYMENT_REVERSAL_TRIES

EVENT_RECORD_DAYS = 30  # Stripe redelivers for up to 3 days; an event older than the signature tolerance is refused


def payment_key(payment_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"PAYMENT#{payment_id}"}, "sk": {"S": "PAYMENT"}}


def _event_put(table: str, event_id: str, at_ms: int, payment_id: str) -> dict[str, Any]:
    return {"Put": {"TableName": table, "ConditionExpression": "attribute_not_exists(pk)", "Item": {
        "pk": {"S": f"STRIPE_EVENT#{event_id}"}, "sk": {"S": "EVENT"}, "payment_id": {"S": payment_id},
        "at_ms": {"N": str(at_ms)}, "expires_at": {"N": str(at_ms // 1000 + EVENT_RECORD_DAYS * 86400)}}}}


def _payment(item: dict[str, Any]) -> PaymentRecord:
    return PaymentRecord.model_validate(record_attributes(item))


def _is_payment_position(key: dict[str, str]) -> bool:
    return key["sk"] == "PAYMENT" and key["pk"].startswith("PAYMENT#") and key["gsi1sk"].startswith("PAYMENT#")


class PaymentRepository(LedgerRepository):
    """The ledger (data/ledger.py) plus the payments that move it."""

    def credit_payment(self, credit: PaymentCredit) -> Applied:
        entry = LedgerEntry(entry_id=f"top_up_{credit.payment_id}", account_id=credit.account_id, kind="top_up",
                            amount_micros=credit.amount_micros, at_ms=credit.at_ms, payment_id=credit.payment_id,
                            stripe_event_id=credit.event_id, note=f"Stripe {credit.purpose.replace('_', '-')}")
        fields: dict[str, Any] = {
            "payment_id": credit.payment_id, "account_id": credit.account_id, "purpose": credit.purpose,
            "currency": credit.currency, "amount_minor": credit.amount_minor, "amount_micros": credit.amount_micros,
            "credited_at_ms": credit.at_ms, "credit_event_id": credit.event_id,
            "gsi1pk": f"ACCOUNT#{credit.account_id}", "gsi1sk": f"PAYMENT#{credit.at_ms:013d}#{credit.payment_id}",
        }
        if credit.checkout_session_id:
            fields["checkout_session_id"] = credit.checkout_session_id
        names = {f"#f{i}": name for i, name in enumerate(fields)}
        values = {f":f{i}": to_value(value) for i, value in enumerate(fields.values())} | {":zero": {"N": "0"}}
        assignments = [f"#f{i} = :f{i}" for i in range(len(fields))]
        assignments += ["refunded_micros = if_not_exists(refunded_micros, :zero)",
                        "disputed_micros = if_not_exists(disputed_micros, :zero)"]
        items: list[dict[str, Any]] = [
            {"Update": {"TableName": self._table, "Key": account_key(credit.account_id),
                        "UpdateExpression": "SET balance_micros = balance_micros + :amount",
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeValues": {":amount": {"N": str(credit.amount_micros)}}}},
            {"Put": {"TableName": self._table, "Item": ledger_item(entry),
                     "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Update": {"TableName": self._table, "Key": payment_key(credit.payment_id),
                        "UpdateExpression": "SET " + ", ".join(assignments),
                        "ConditionExpression": "attribute_not_exists(credited_at_ms)",
                        "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}},
            _event_put(self._table, credit.event_id, credit.at_ms, credit.payment_id),
        ]
        if credit.purpose == "auto_recharge":
            # The recharge of this crossing is done: the next crossing may claim one (data/recharge.py), and the
            # month's total counts it.
            items.append({"Update": {"TableName": self._table, "Key": recharge_key(credit.account_id),
                                     "UpdateExpression": ("REMOVE claim, claimed_at, started, started_amount_minor "
                                                          "ADD month_charged_micros :amount"),
                                     "ExpressionAttributeValues": {":amount": {"N": str(credit.amount_micros)}}}})
        refused = self._transact_with_account(items)
        if not refused:
            return Applied(moved=credit.amount_micros)
        if refused[0].get("Code") == "ConditionalCheckFailed":
            raise LookupError(f"no account {credit.account_id}")
        return Applied(moved=0)  # the payment (or this event) was credited before

    def reverse_payment(self, reversal: PaymentReversal) -> Applied:
        for _ in range(PAYMENT_REVERSAL_TRIES):
            payment = self.get_payment(reversal.payment_id)
            if payment is None or payment.credited_at_ms is None or payment.account_id is None:
                raise PaymentNotCredited(reversal.payment_id)
            refunded, disputed = payment.refunded_micros, payment.disputed_micros
            room = payment.amount_micros - refunded - disputed  # never take back more than was credited
            if reversal.kind == "refund":
                new_refunded = min(reversal.micros, refunded + room)
                taken, field, new_value = new_refunded - refunded, "refunded_micros", new_refunded
                entry_id = f"refund_{reversal.payment_id}_{new_refunded}"
            else:
                taken = min(reversal.micros, room)
                field, new_value = "disputed_micros", disputed + taken
                entry_id = f"dispute_{reversal.reversal_id}"
            if taken <= 0:
                return Applied(moved=0)  # an older refund total, or nothing left to take back
            entry = LedgerEntry(entry_id=entry_id, account_id=payment.account_id, kind="reversal",
                                amount_micros=-taken, at_ms=reversal.at_ms, payment_id=reversal.payment_id,
                                stripe_event_id=reversal.event_id, note=f"Stripe {reversal.kind}")
            refused = self._transact_with_account([
                {"Update": {"TableName": self._table, "Key": payment_key(reversal.payment_id),
                            "UpdateExpression": f"SET {field} = :new",
                            "ConditionExpression": "refunded_micros = :refunded AND disputed_micros = :disputed",
                            "ExpressionAttributeValues": {":new": {"N": str(new_value)},
                                                          ":refunded": {"N": str(refunded)},
                                                          ":disputed": {"N": str(disputed)}}}},
                # Not conditioned on the balance: credit already spent is owed, and a balance below zero refuses
                # new submits (billing/charges.py) until a top-up pays it back.
                {"Update": {"TableName": self._table, "Key": account_key(payment.account_id),
                            "UpdateExpression": "SET balance_micros = balance_micros - :taken",
                            "ConditionExpression": "attribute_exists(pk)",
                            "ExpressionAttributeValues": {":taken": {"N": str(taken)}}}},
                {"Put": {"TableName": self._table, "Item": ledger_item(entry),
                         "ConditionExpression": "attribute_not_exists(pk)"}},
                _event_put(self._table, reversal.event_id, reversal.at_ms, reversal.payment_id),
            ])
            if not refused:
                account = self.get_account(payment.account_id)
                return Applied(moved=taken, balance_after_micros=account.balance_micros if account else None)
            codes = [reason.get("Code") for reason in refused]
            if codes[2] == "ConditionalCheckFailed" or codes[3] == "ConditionalCheckFailed":
                return Applied(moved=0)  # this reversal (or this event) was applied before
            # The payment moved since it was read (another reversal): read it again.
        raise RuntimeError(f"payment {reversal.payment_id} kept changing; Stripe will deliver the event again")

    def record_receipt(self, receipt: PaymentReceipt) -> None:
        """The charge and its receipt URL on the payment (created bare when the receipt comes before the credit)."""
        values: dict[str, Any] = {":pid": {"S": receipt.payment_id}, ":charge": {"S": receipt.charge_id}}
        update = "SET payment_id = :pid, charge_id = :charge"
        if receipt.receipt_url:
            values[":url"] = {"S": receipt.receipt_url}
            update += ", receipt_url = :url"
        self._client.update_item(TableName=self._table, Key=payment_key(receipt.payment_id),
                                 UpdateExpression=update, ExpressionAttributeValues=values)

    def get_payment(self, payment_id: str) -> PaymentRecord | None:
        item = self._client.get_item(TableName=self._table, Key=payment_key(payment_id),
                                     ConsistentRead=True).get("Item")
        return _payment(item) if item else None

    def payments_page(self, account_id: str, *, limit: int,
                      cursor: str | None = None) -> tuple[list[PaymentRecord], str | None]:
        """The account's credited payments, newest first."""
        params: dict[str, Any] = {
            "TableName": self._table, "IndexName": "gsi1", "Limit": limit, "ScanIndexForward": False,
            "KeyConditionExpression": "gsi1pk = :pk AND begins_with(gsi1sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": f"ACCOUNT#{account_id}"}, ":prefix": {"S": "PAYMENT#"}},
        }
        if cursor:
            params["ExclusiveStartKey"] = decode_cursor(cursor, partition=f"ACCOUNT#{account_id}",
                                                        valid=_is_payment_position)
        response = self._client.query(**params)
        return [_payment(item) for item in response.get("Items", [])], encode_cursor(response.get("LastEvaluatedKey"))

    def account_payments(self, account_id: str) -> list[PaymentRecord]:
        """Every credited payment of the account (reconcile), each read again consistently (the index is not)."""
        payments: list[PaymentRecord] = []
        cursor: str | None = None
        while True:
            page, cursor = self.payments_page(account_id, limit=100, cursor=cursor)
            payments += [self.get_payment(p.payment_id) or p for p in page]
            if cursor is None:
                return payments
