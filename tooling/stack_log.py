"""The local stack's log since a mark, as `make bench` reads it: each function's invocation durations (the REPORT
lines the local runtime writes) and how many tries billing took per reserve and per settle (its JSON log lines)."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

# What billing logs once a balance moved, with the tries it took (retouch.billing.charges; kept by its redesign).
BILLING_TRIES = {"credit reserved": "reserve", "job settled": "settle"}


class StackLog:
    """The stack's log since a mark: each function's invocation durations (the REPORT lines the local runtime
    writes) and billing's tries (its JSON log lines)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._offset = 0

    def mark(self) -> None:
        self._offset = self._path.stat().st_size

    def _lines(self) -> Iterator[str]:
        with self._path.open("rb") as log:
            log.seek(self._offset)
            for raw in log:
                yield raw.decode("utf-8", "replace")

    def durations(self) -> dict[str, list[float]]:
        """Seconds per invocation since the last mark, by function (`api`, `worker`, ...)."""
        found: dict[str, list[float]] = {}
        for line in self._lines():
            if "] REPORT RequestId:" not in line or "Duration: " not in line:
                continue
            function = line[1:line.index("]")].split("#")[0]
            found.setdefault(function, []).append(float(line.split("Duration: ")[1].split(" ms")[0]) / 1000)
        return found

    def billing_tries(self) -> dict[str, Counter[int]]:
        """How many tries each reserve and each settle took since the last mark: tries -> how many did."""
        found: dict[str, Counter[int]] = {kind: Counter() for kind in BILLING_TRIES.values()}
        for line in self._lines():
            start = line.find("] {")
            if start < 0 or '"tries"' not in line:
                continue
            try:
                record = json.loads(line[start + 2:])
            except ValueError:
                continue
            kind = BILLING_TRIES.get(record.get("message")) if isinstance(record, dict) else None
            if kind is not None and isinstance(record.get("tries"), int):
                found[kind][record["tries"]] += 1
        return found


def tries_histogram(tries: Counter[int]) -> dict[str, int]:
    """Tries -> count, exact up to 4, then doubling buckets (5-8, 9-16, ...), in order."""
    buckets: dict[str, int] = {}
    for value in sorted(tries):
        if value <= 4:
            label = str(value)
        else:
            low = 2 ** math.ceil(math.log2(value)) // 2 + 1
            label = f"{low}-{2 * (low - 1)}"
        buckets[label] = buckets.get(label, 0) + tries[value]
    return buckets
