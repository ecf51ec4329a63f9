"""Lambda's scaling: each function gets execution environments that run one invocation at a time.

Handlers keep per-invocation state in module globals, as Lambda allows (Powertools' BatchProcessor
holds the current batch, Logger the appended keys), so two invocations must never share a process.
A function starts with one warm environment; when all are busy another is started (a cold start),
up to `max_environments`; beyond that, invocations wait for a free one (a local resource bound, not AWS's).

A function with reserved concurrency (`ReservedConcurrentExecutions`) runs at most that many invocations at once, as
in AWS: a synchronous invocation past it is refused at once (Throttled, Lambda's TooManyRequestsException), never
queued. Invocations waiting for a local environment count as running, since in AWS they would be.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from local.child_process import ChildStartError
from local.lambdas.function_host import FunctionHost
from local.lambdas.invocation import FunctionUnavailable, Invocation, StreamedInvocation, Throttled


class FunctionInitError(RuntimeError):
    """A handler failed to import; raised at start so a broken function is not found later as a 500."""


class FunctionPool:
    def __init__(
        self,
        name: str,
        new_host: Callable[[str], FunctionHost],
        *,
        max_environments: int = 8,
        spawn_timeout: float = 30.0,
        reserved_concurrency: int | None = None,
    ) -> None:
        """`new_host(prefix)` builds an unstarted environment; `name` is its console prefix."""
        self._name = name
        self._reserved = reserved_concurrency
        self._in_flight = 0
        self._new_host = new_host
        self._max = max_environments
        self._spawn_timeout = spawn_timeout
        self._changed = threading.Condition()
        self._all: list[FunctionHost] = []  # started or starting
        self._idle: list[FunctionHost] = []  # the most recently used last: the warmest is reused first
        self._spawned = 0
        self._closed = False
        self.init_error: dict[str, Any] | None = None

    def start(self) -> None:
        """Start the first environment (the stack waits for all functions' first ones together)."""
        with self._changed:
            self._first = self._spawn_locked()
        self._first.start()

    def wait_ready(self, timeout: float) -> None:
        self._first.wait_ready(timeout)
        self.init_error = self._first.init_error
        self._release(self._first)

    def invoke(self, event: Any) -> Invocation:
        self._admit()
        try:
            return self._invoke(event)
        finally:
            self._done()

    def _admit(self) -> None:
        """Count an invocation in, or refuse it past the reserved concurrency (Lambda's TooManyRequestsException)."""
        with self._changed:
            if self._reserved is not None and self._in_flight >= self._reserved:
                raise Throttled(f"{self._name}: {self._in_flight} invocations running, its reserved concurrency")
            self._in_flight += 1

    def _done(self) -> None:
        with self._changed:
            self._in_flight -= 1

    def _invoke(self, event: Any) -> Invocation:
        host = self._acquire()
        try:
            invocation = host.invoke(event)
        except FunctionUnavailable:
            self._discard(host)
            raise
        except BaseException:  # refused before it ran (an event over Lambda's limit): the environment is fine
            self._release(host)
            raise
        self._release(host)
        return invocation

    def invoke_streaming(self, event: Any) -> Invocation | StreamedInvocation:
        """As `invoke`, in streaming mode: the environment is busy (and counts against the reserved concurrency) until
        the stream is read to its end or closed."""
        self._admit()
        try:
            host = self._acquire()
        except BaseException:
            self._done()
            raise
        try:
            answer = host.invoke_streaming(event)
        except FunctionUnavailable:
            self._discard(host)
            self._done()
            raise
        except BaseException:
            self._release(host)
            self._done()
            raise
        if isinstance(answer, Invocation):
            self._release(host)
            self._done()
            return answer

        def chunks() -> Iterator[bytes]:
            try:
                yield from answer.chunks
            finally:
                close = getattr(answer.chunks, "close", None)
                if close is not None:
                    close()
                self._release(host)
                self._done()

        return StreamedInvocation(chunks())

    def stop(self) -> None:
        with self._changed:
            self._closed = True
            hosts = list(self._all)
            self._changed.notify_all()
        for host in hosts:
            host.stop()

    def busy_pids(self) -> list[int]:
        """Process ids of the environments running an invocation now (fault tests kill them mid-job)."""
        with self._changed:
            return [h.pid for h in self._all if h not in self._idle and h.ready and h.running and h.pid is not None]

    @property
    def size(self) -> int:
        with self._changed:
            return len(self._all)

    def _spawn_locked(self) -> FunctionHost:
        self._spawned += 1
        host = self._new_host(self._name if self._spawned == 1 else f"{self._name}#{self._spawned}")
        self._all.append(host)
        return host

    def _acquire(self) -> FunctionHost:
        dead: list[FunctionHost] = []
        try:
            with self._changed:
                while True:
                    if self._closed:
                        raise FunctionUnavailable(f"{self._name} is stopped")
                    while self._idle:
                        host = self._idle.pop()
                        if host.running:
                            return host
                        self._all.remove(host)  # died while idle (killed, crashed): never handed work
                        dead.append(host)
                    if len(self._all) < self._max:
                        host = self._spawn_locked()
                        break
                    self._changed.wait()
        finally:
            for corpse in dead:
                corpse.stop()
        # A cold start takes a while: outside the lock, so other invocations go on meanwhile.
        try:
            host.start()
            host.wait_ready(self._spawn_timeout)
        except ChildStartError as exc:
            self._discard(host)
            raise FunctionUnavailable(f"{self._name}: a new environment did not start: {exc}") from exc
        return host

    def _release(self, host: FunctionHost) -> None:
        if not host.running:  # ended by a timeout or a crash during the invocation
            self._discard(host)
            return
        with self._changed:
            if self._closed or host not in self._all:
                return
            self._idle.append(host)
            self._changed.notify()

    def _discard(self, host: FunctionHost) -> None:
        with self._changed:
            if host in self._all:
                self._all.remove(host)
            self._changed.notify()
        host.stop()


class Functions:
    """The stack's functions by logical id; their first environments start in parallel (cold starts overlap)."""

    def __init__(self, pools: Mapping[str, FunctionPool]) -> None:
        self._pools = dict(pools)

    def start(self) -> None:
        for pool in self._pools.values():
            pool.start()

    def wait_ready(self, timeout: float, *, strict_init: bool = True) -> None:
        deadline = time.monotonic() + timeout
        for pool in self._pools.values():
            pool.wait_ready(max(0.1, deadline - time.monotonic()))
        broken = {fid: pool.init_error for fid, pool in self._pools.items() if pool.init_error}
        if broken and strict_init:
            details = "; ".join(f"{fid}: {err.get('errorType')}: {err.get('errorMessage')}"
                                for fid, err in broken.items())
            raise FunctionInitError(f"handlers failed to import (their output is above or in the log): {details}")

    def stop(self) -> None:
        for pool in self._pools.values():
            pool.stop()

    def invoke(self, function_id: str, event: Any) -> Invocation:
        pool = self._pools.get(function_id)
        if pool is None:
            raise KeyError(f"no function {function_id!r}; known: {sorted(self._pools)}")
        return pool.invoke(event)

    def invoke_streaming(self, function_id: str, event: Any) -> Invocation | StreamedInvocation:
        pool = self._pools.get(function_id)
        if pool is None:
            raise KeyError(f"no function {function_id!r}; known: {sorted(self._pools)}")
        return pool.invoke_streaming(event)

    def pool(self, function_id: str) -> FunctionPool:
        return self._pools[function_id]
