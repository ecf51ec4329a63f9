"""Where the stack's own messages and its child processes' output go: the console, a log file, or nowhere."""

from __future__ import annotations

import collections
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TextIO


class Console:
    """Thread-safe `[prefix] line` writer; quiet mode writes to `log_path` (or drops) instead of the console.

    The last lines are always kept so a failed start can say what the child printed.
    """

    def __init__(
        self, *, quiet: bool = False, log_path: Path | str | None = None, stream: TextIO | None = None,
        render: Callable[[str], str] | None = None,
    ) -> None:
        """`render`: how a child's line is shown on the console (the log file keeps it whole)."""
        self._render = render
        self._lock = threading.Lock()
        self._recent: collections.deque[str] = collections.deque(maxlen=200)
        self._file: TextIO | None = open(log_path, "a", encoding="utf-8") if log_path else None  # noqa: SIM115
        self._stream = None if quiet else (stream or sys.stderr)

    def line(self, prefix: str, text: str) -> None:
        formatted = f"[{prefix}] {text.rstrip()}"
        shown = f"[{prefix}] {self._render(text.rstrip())}" if self._render else formatted
        with self._lock:
            self._recent.append(formatted)
            if self._stream is not None:
                self._stream.write(shown + "\n")
                self._stream.flush()
            if self._file is not None:
                self._file.write(formatted + "\n")
                self._file.flush()

    def recent(self, prefix: str, limit: int = 40) -> list[str]:
        with self._lock:
            mine = [line for line in self._recent if line.startswith(f"[{prefix}] ")]
        return mine[-limit:]

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
