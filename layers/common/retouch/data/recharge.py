"""Auto-recharge settings in DynamoDB, and the claim that makes one recharge per crossing of the threshold:

    ACCOUNT#<id> / AUTO_RECHARGE     enabled, threshold, recharge-to, monthly cap, saved card, this month's total,
                                     `claim` (the crossing being recharged), `started` (its PaymentIntent was asked for)

A settlement that leaves the balance under the threshold claims the crossing with ONE conditional update (enabled,
no claim yet, threshold above the balance): of 20 concurrent settlements, exactly one succeeds, and only it asks for
a recharge. The claim stays until the recharge is credited (the credit's transaction removes it, data/payments.py),
fails or is refused by the cap (`disable`). A claim whose recharge never started (its message lost) may be claimed
again after CLAIM_STALE_SECONDS; one that started never is, so a crossing is charged at most once.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from retouch.data.clients import aws_client
from retouch.data.items import is_condition_failure, record_attributes, to_value
from retouch.models.payments import RechargeSettingsRecord

CLAIM_STALE_SECONDS = 900
RECHARGE_SK = "AUTO_RECHARGE"
_CLAIM_FIELDS = ("claim", "claimed_at", "started", "started_amount_minor")


def recharge_key(account_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"ACCOUNT#{account_id}"}, "sk": {"S": RECHARGE_SK}}


class RechargeRepository:
    def __init__(self, table_name: str, client: Any = None) -> None:
        self._table = table_name
        self._client = client or aws_client("dynamodb")

    def get(self, account_id: str) -> RechargeSettingsRecord | None:
        item = self._client.get_item(TableName=self._table, Key=recharge_key(account_id),
                                     ConsistentRead=True).get("Item")
        return RechargeSettingsRecord.model_validate(record_attributes(item)) if item else None

    def _update(self, account_id: str, assignments: dict[str, Any], *, remove: tuple[str, ...] = (),
                condition: str | None = None, values: dict[str, Any] | None = None) -> bool:
        names = {f"#s{i}": name for i, name in enumerate(assignments)} | {
            f"#r{i}": name for i, name in enumerate(remove)}
        expression_values = {f":s{i}": to_value(v) for i, v in enumerate(assignments.values())} | (values or {})
        expression = "SET account_id = :account"
        if assignments:
            expression += ", " + ", ".join(f"#s{i} = :s{i}" for i in range(len(assignments)))
        if remove:
            expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(remove)))
        expression_values[":account"] = {"S": account_id}
        params: dict[str, Any] = {"TableName": self._table, "Key": recharge_key(account_id),
                                  "UpdateExpression": expression, "ExpressionAttributeNames": names,
                                  "ExpressionAttributeValues": expression_values}
        if condition:
            params["ConditionExpression"] = condition
        try:
            self._client.update_item(**params)
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    def put_choice(self, account_id: str, *, enabled: bool, threshold_micros: int, recharge_to_micros: int,
                   monthly_cap_micros: int) -> None:
        """The customer's settings (a new choice clears the reason it was disabled for)."""
        self._update(account_id, {"enabled": enabled, "threshold_micros": threshold_micros,
                                  "recharge_to_micros": recharge_to_micros, "monthly_cap_micros": monthly_cap_micros},
                     remove=("disabled_reason",))

    def save_card(self, account_id: str, customer_id: str, payment_method_id: str) -> None:
        self._update(account_id, {"customer_id": customer_id, "payment_method_id": payment_method_id})

    def claim_crossing(self, account_id: str, balance_micros: int, claim: str, now: int) -> bool:
        """Claim the recharge of this crossing: True for exactly one of any number of concurrent settlements."""
        return self._update(
            account_id, {"claim": claim, "claimed_at": now},
            condition=("enabled = :true AND threshold_micros > :balance AND (attribute_not_exists(claim) OR "
                       "(claimed_at < :stale AND attribute_not_exists(started)))"),
            values={":true": {"BOOL": True}, ":balance": {"N": str(balance_micros)},
                    ":stale": {"N": str(now - CLAIM_STALE_SECONDS)}})

    def start(self, account_id: str, claim: str, amount_minor: int, month: str, month_charged_micros: int) -> bool:
        """Mark the claim's PaymentIntent as asked for, for `amount_minor` (with this month's total so far); False
        when the claim is not this one any more or already started (a redelivered message)."""
        return self._update(account_id, {"started": claim, "started_amount_minor": amount_minor, "month": month,
                                         "month_charged_micros": month_charged_micros},
                            condition="claim = :claim AND attribute_not_exists(started)",
                            values={":claim": {"S": claim}})

    def disable(self, account_id: str, claim: str | None, reason: str) -> bool:
        """Turn auto-recharge off with its reason, and drop the claim (when it is still `claim`)."""
        condition, values = (("claim = :claim", {":claim": {"S": claim}}) if claim else (None, None))
        return self._update(account_id, {"enabled": False, "disabled_reason": reason}, remove=_CLAIM_FIELDS,
                            condition=condition, values=values)

    def release_claim(self, account_id: str, claim: str) -> bool:
        """Nothing to recharge after all (the balance was topped up meanwhile): the next crossing may claim."""
        return self._update(account_id, {}, remove=_CLAIM_FIELDS,
                            condition="claim = :claim", values={":claim": {"S": claim}})

    def put_low_balance(self, account_id: str, micros: int | None, email: str | None) -> None:
        chosen = {"low_balance_micros": micros, "alert_email": email}
        self._update(account_id, {k: v for k, v in chosen.items() if v is not None},
                     remove=("low_alerted", *(k for k, v in chosen.items() if v is None)))

    def claim_low_alert(self, account_id: str, balance_micros: int) -> bool:
        """True for exactly one of concurrent settlements that leave the balance under the alert's threshold."""
        return self._update(account_id, {"low_alerted": True},
                            condition="low_balance_micros > :balance AND attribute_not_exists(low_alerted)",
                            values={":balance": {"N": str(balance_micros)}})

    def rearm_low_alert(self, account_id: str, balance_micros: int) -> bool:
        """The balance is back at the threshold or above: the next dip alerts again."""
        return self._update(account_id, {}, remove=("low_alerted",),
                            condition="low_balance_micros <= :balance AND attribute_exists(low_alerted)",
                            values={":balance": {"N": str(balance_micros)}})
