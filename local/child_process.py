"""Child processes of the stack (moto, function hosts, the seeder): start, readiness handshake, output, no orphans.

Handshake: the child prints one `READY_MARKER {json}` line on stdout once it serves (e.g. its port).
Orphans: the parent holds the child's stdin; the child exits when it reads EOF, so even a SIGKILLed
parent leaves nothing behind. Children get their own session, so Ctrl-C reaches only the parent,
which then stops them in order.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from local.console import Console

READY_MARKER = "__RETOUCH_LOCAL_READY__"


class ChildStartError(RuntimeError):
    """The child exited or stayed silent instead of announcing readiness."""


# --- child side --------------------------------------------------------------------------------


def announce_ready(info: Mapping[str, Any]) -> None:
    sys.stdout.write(f"{READY_MARKER} {json.dumps(dict(info))}\n")
    sys.stdout.flush()


def exit_with_parent() -> None:
    """Exit as soon as the parent closes our stdin (it stopped us, or it died)."""

    def watch() -> None:
        try:
            while sys.stdin.buffer.read(65536):
                pass
        finally:
            os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


# --- parent side -------------------------------------------------------------------------------


class ChildProcess:
    def __init__(
        self,
        prefix: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        console: Console,
        cwd: Path | str | None = None,
    ) -> None:
        self.prefix = prefix
        self._argv = list(argv)
        self._env = dict(env)
        self._console = console
        self._cwd = cwd
        self._process: subprocess.Popen[bytes] | None = None
        self._ready = threading.Event()
        self._ready_info: dict[str, Any] = {}
        self._pumps: list[threading.Thread] = []

    def start(self) -> None:
        self._process = subprocess.Popen(
            self._argv,
            env=self._env,
            cwd=self._cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        for stream, watch_ready in ((self._process.stdout, True), (self._process.stderr, False)):
            pump = threading.Thread(
                target=self._pump, args=(stream, watch_ready), name=f"{self.prefix}-out", daemon=True
            )
            pump.start()
            self._pumps.append(pump)

    def _pump(self, stream: IO[bytes] | None, watch_ready: bool) -> None:
        assert stream is not None
        for raw in iter(stream.readline, b""):
            text = raw.decode("utf-8", errors="replace").rstrip("\n")
            if watch_ready and not self._ready.is_set() and text.startswith(READY_MARKER):
                self._ready_info = json.loads(text[len(READY_MARKER):])
                self._ready.set()
                continue
            self._console.line(self.prefix, text)
        stream.close()

    def wait_ready(self, timeout: float) -> dict[str, Any]:
        """Block until the child announced readiness; raise with its last output if it died or timed out."""
        assert self._process is not None, "start() first"
        deadline = time.monotonic() + timeout
        while not self._ready.wait(0.05):
            if self._process.poll() is not None:
                for pump in self._pumps:
                    pump.join(timeout=1)
                if self._ready.is_set():
                    break
                raise ChildStartError(self._failure(f"exited with code {self._process.returncode}"))
            if time.monotonic() >= deadline:
                raise ChildStartError(self._failure(f"not ready after {timeout:.0f} s"))
        return self._ready_info

    def _failure(self, what: str) -> str:
        output = "\n".join(self._console.recent(self.prefix)) or "(no output)"
        return f"{self.prefix} {what}; its last output:\n{output}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def kill(self) -> None:
        """At once, as Lambda ends an environment whose invocation timed out."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
        self.stop()

    def stop(self, timeout: float = 3.0) -> None:
        """Close stdin (the child exits on EOF), then escalate to SIGTERM and SIGKILL if it lingers."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            try:
                assert process.stdin is not None
                process.stdin.close()
            except OSError:
                pass
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.terminate()
                try:
                    process.wait(timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        elif process.stdin is not None:
            process.stdin.close()
        for pump in self._pumps:
            pump.join(timeout=1)
