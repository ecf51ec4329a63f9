"""An operator's credit adjustment from the console: credit added (or, negative, taken back, never below zero) with a
reason, as a `credit` ledger entry written in one transaction with the balance, like the admin tool's `add-credit`
(billing/charges.py `add_credit`), so reconciliation counts it like any credit.

Idempotent under the request's Idempotency-Key, which the route requires (400 without one: a double click or a retry
would otherwise credit twice): the entry's id is derived from the key, and the entry is written only
if absent in the very transaction that moves the balance. So the same request sent twice (a double click, a retry after
a lost answer) moves the balance once, and the second gets the first's entry back (`replayed`); the key reused for
another amount or reason is refused (422). Unlike a submit's key (jobs/idempotency.py), this one needs no record of its
own and never expires: the ledger entry is its record. Scoped to the account adjusted.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from retouch.billing.charges import now_ms
from retouch.billing.money import format_usd, to_usd
from retouch.billing.usage import entry_view
from retouch.errors import AccountNotFound, BalanceWouldGoNegative, IdempotencyKeyReused
from retouch.models.account_records import LedgerEntry
from retouch.models.console_routes import CreditAdjustmentView
from retouch.ports import CreditLedger, CreditRefused, CreditWritten

# The header's name (jobs/idempotency.py reads it for the web layer; billing does not import jobs).
IDEMPOTENCY_HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class Adjustment:
    entry: LedgerEntry
    balance_micros: int  # the account's available balance as read just after
    replayed: bool  # an earlier request under the same key made it

    def view(self) -> CreditAdjustmentView:
        return CreditAdjustmentView(account_id=self.entry.account_id, balance_usd=to_usd(self.balance_micros),
                                    balance_micros=self.balance_micros, entry=entry_view(self.entry))


def adjustment_entry_id(idempotency_key: str) -> str:
    """`credit_` + 32 hex characters (the admin tool's shape), from the key."""
    return "credit_" + hashlib.sha256(f"console-adjustment\0{idempotency_key}".encode()).hexdigest()[:32]


def adjust_credit(ledger: CreditLedger, account_id: str, amount_micros: int, reason: str, *, operator: str,
                  idempotency_key: str) -> Adjustment:
    """Credit `amount_micros` (non-zero) to the account with `reason` on its entry, once per Idempotency-Key.
    404 for no such account, 409 when a negative amount would take the balance below zero."""
    entry = LedgerEntry(entry_id=adjustment_entry_id(idempotency_key), account_id=account_id, kind="credit",
                        amount_micros=amount_micros, at_ms=now_ms(), note=reason, adjusted_by=operator)
    earlier = ledger.entry(account_id, entry.entry_id)
    if earlier is None:
        try:
            ledger.credit(entry)
            return Adjustment(entry=entry, balance_micros=_balance(ledger, account_id), replayed=False)
        except CreditWritten:  # an identical request got there first, between our read and our write
            earlier = ledger.entry(account_id, entry.entry_id)
        except CreditRefused as refused:
            earlier = ledger.entry(account_id, entry.entry_id)
            if earlier is None:
                raise _refusal(refused, account_id, amount_micros) from None
    if earlier is None:
        raise RuntimeError(f"credit {entry.entry_id} was written, then could not be read")
    if (earlier.kind, earlier.amount_micros, earlier.note) != ("credit", amount_micros, reason):
        raise IdempotencyKeyReused(f"This {IDEMPOTENCY_HEADER} was already used for another adjustment of this "
                                   "account; use a new key for a new adjustment.", param=IDEMPOTENCY_HEADER)
    return Adjustment(entry=earlier, balance_micros=_balance(ledger, account_id), replayed=True)


def _balance(ledger: CreditLedger, account_id: str) -> int:
    account = ledger.get_account(account_id)
    if account is None:
        raise AccountNotFound(f"No account found with id '{account_id}'.", param="account_id")
    return account.balance_micros


def _refusal(refused: CreditRefused, account_id: str, amount_micros: int) -> Exception:
    if refused.current is None:
        return AccountNotFound(f"No account found with id '{account_id}'.", param="account_id")
    return BalanceWouldGoNegative(
        f"Taking back {format_usd(-amount_micros)} would take the balance ({format_usd(refused.current.balance_micros)}"
        ") below zero.", param="amount_usd")
