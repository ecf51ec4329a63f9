"""The bench's contention figure reads billing's tries from the stack's log (tooling/stack_log.py)."""

from __future__ import annotations

import json
from collections import Counter

from tooling.stack_log import StackLog, tries_histogram


def _json_line(prefix: str, **record: object) -> str:
    return f"[{prefix}] {json.dumps(record)}\n"


def test_tries_are_read_from_reserve_and_settle_lines_written_since_the_mark(tmp_path):
    # Given a log with one reserve before the mark, then reserves, settles and unrelated lines after it
    path = tmp_path / "stack.log"
    path.write_text(_json_line("api", level="INFO", message="credit reserved", tries=9))
    log = StackLog(path)
    log.mark()
    with path.open("a") as out:
        out.write(_json_line("api", level="INFO", message="credit reserved", tries=1))
        out.write(_json_line("api", level="INFO", message="credit reserved", tries=3))
        out.write(_json_line("api", level="INFO", message="credit reserved (an earlier try committed)"))
        out.write(_json_line("worker", level="INFO", message="job settled", outcome="succeeded", tries=1))
        out.write(_json_line("worker", level="INFO", message="job claimed", tries=2))
        out.write("[worker] REPORT RequestId: x\tDuration: 12.0 ms\n")
        out.write('[api] {"message": "credit reserved", "tries": 1\n')  # a line cut short
    # When the tries are read
    tries = log.billing_tries()
    # Then only the lines since the mark count, each under its own kind
    assert tries == {"reserve": Counter({1: 1, 3: 1}), "settle": Counter({1: 1})}


def test_the_histogram_is_exact_to_four_tries_then_doubles():
    assert tries_histogram(Counter({1: 10, 2: 3, 4: 1, 5: 2, 8: 1, 9: 4, 16: 1, 150: 2})) == {
        "1": 10, "2": 3, "4": 1, "5-8": 3, "9-16": 5, "129-256": 2}
