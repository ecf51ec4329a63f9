"""In-memory AccountSlots (see retouch.ports)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from retouch import ports


class FakeAccountSlots:
    """AccountSlots in memory: `count` leases per account."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.held: dict[str, dict[str, int]] = {}  # account -> holder -> lease end

    def acquire(self, account_id: str, holder: str, *, now: int, until: int) -> bool:
        leases = {name: end for name, end in self.held.get(account_id, {}).items() if end >= now}
        if holder not in leases and len(leases) >= self.count:
            return False
        leases[holder] = until
        self.held[account_id] = leases
        return True

    def release(self, account_id: str, holder: str) -> None:
        self.held.get(account_id, {}).pop(holder, None)


if TYPE_CHECKING:  # mypy checks the fake against its port
    _account_slots: ports.AccountSlots = FakeAccountSlots(1)
