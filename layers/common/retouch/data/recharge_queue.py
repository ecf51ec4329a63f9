"""The recharge queue: one `{account_id, claim}` message per claimed crossing (payments/auto_recharge.py)."""

from __future__ import annotations

import json

from retouch.data.queue import SqsQueue


class RechargeQueue(SqsQueue):
    def send(self, account_id: str, claim: str) -> None:
        self._send(json.dumps({"account_id": account_id, "claim": claim}), what="recharge queue")
