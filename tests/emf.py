"""Reading back what Powertools printed: the EMF metric lines (what CloudWatch would ingest) and the JSON log lines.
The `emitted` fixture in tests/unit/conftest.py flushes an invocation's metrics and hands back an `Emitted`."""

from __future__ import annotations

import json
import sys
from collections import defaultdict

from retouch.observability import metric_names as names


class Emitted:
    """Sums of every metric printed as EMF, by (name, dimensions)."""

    def __init__(self, output: str) -> None:
        self.totals: dict[tuple[str, tuple[tuple[str, str], ...]], float] = defaultdict(float)
        self.logs: list[dict] = []
        for line in output.splitlines():
            try:
                document = json.loads(line)
            except ValueError:
                continue
            if not isinstance(document, dict):
                continue
            if "_aws" not in document:
                self.logs.append(document)
                continue
            [directive] = document["_aws"]["CloudWatchMetrics"]
            dimensions = tuple(sorted((name, document[name]) for name in directive["Dimensions"][0]))
            for metric in directive["Metrics"]:
                value = document[metric["Name"]]
                self.totals[(metric["Name"], dimensions)] += sum(value) if isinstance(value, list) else value

    def __call__(self, name: str, **dimensions: str) -> float:
        return self.totals.get((name, tuple(sorted({"service": names.SERVICE, **dimensions}.items()))), 0)

    @property
    def names(self) -> set[str]:
        return {name for name, _ in self.totals}


class CurrentStdout:
    """Whatever sys.stdout is when a line is written (capsys swaps it in only while the test runs)."""

    def write(self, text: str) -> None:
        sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()
