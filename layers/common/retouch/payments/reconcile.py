"""Reconciliation of payments: every ledger credit from Stripe is a recorded payment, and back.

For an account: each credited payment has exactly one `top_up` entry of its amount, and its `reversal` entries
sum to what its refunds and disputes took back; each `top_up` or `reversal` entry names a payment of this account.
Run by `retouch-admin reconcile` beside the ledger's own checks (billing/reconcile.py).
"""

from __future__ import annotations

from retouch.billing.reconcile import Difference
from retouch.payments.ports import PaymentAudit


def check_payments(audit: PaymentAudit, account_id: str) -> list[Difference]:
    _, entries = audit.account_with_ledger(account_id)
    payments = {p.payment_id: p for p in audit.account_payments(account_id)}
    found: list[Difference] = []
    credits: dict[str, list[int]] = {}
    reversed_: dict[str, int] = {}
    for entry in entries:
        if entry.kind not in ("top_up", "reversal"):
            continue
        if entry.payment_id is None or entry.payment_id not in payments:
            found.append(Difference(account_id, "payment",
                                    f"ledger entry {entry.entry_id} names payment {entry.payment_id}, which is not "
                                    "a recorded payment of this account"))
            continue
        if entry.kind == "top_up":
            credits.setdefault(entry.payment_id, []).append(entry.amount_micros)
        else:
            reversed_[entry.payment_id] = reversed_.get(entry.payment_id, 0) - entry.amount_micros
    for payment_id, payment in payments.items():
        if credits.get(payment_id, []) != [payment.amount_micros]:
            found.append(Difference(account_id, "payment",
                                    f"{payment_id} credited {payment.amount_micros} but its top_up entries are "
                                    f"{credits.get(payment_id, [])}"))
        if reversed_.get(payment_id, 0) != payment.reversed_micros:
            found.append(Difference(account_id, "payment",
                                    f"{payment_id}: refunds and disputes took back {payment.reversed_micros} but its "
                                    f"reversal entries sum to {reversed_.get(payment_id, 0)}"))
    return found
