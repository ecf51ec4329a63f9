"""local.lambdas.function_pool: one invocation per environment, scale-out on demand, waiting at the cap."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from local.lambdas.function_pool import FunctionPool
from local.lambdas.invocation import FunctionUnavailable, Invocation


class FakeHost:
    """An environment without a process; `gate` holds invocations until the test opens it."""

    def __init__(self, prefix: str, gate: threading.Event) -> None:
        self.prefix = prefix
        self.gate = gate
        self.init_error = None
        self.stopped = False
        self.active = 0
        self.most_active = 0
        self.crash = False
        self.dead = False
        self._lock = threading.Lock()

    def start(self) -> None: ...

    def wait_ready(self, timeout: float) -> None: ...

    def stop(self) -> None:
        self.stopped = True

    @property
    def running(self) -> bool:
        return not self.stopped and not self.dead

    ready = True


    def invoke(self, event: Any) -> Invocation:
        if self.crash:
            raise FunctionUnavailable("crashed")
        with self._lock:
            self.active += 1
            self.most_active = max(self.most_active, self.active)
        self.gate.wait(5)
        with self._lock:
            self.active -= 1
        return Invocation({"host": self.prefix}, failed=False)


def pool_with(max_environments: int) -> tuple[FunctionPool, list[FakeHost], threading.Event]:
    gate, hosts = threading.Event(), []

    def new_host(prefix: str) -> FakeHost:
        host = FakeHost(prefix, gate)
        hosts.append(host)
        return host

    pool = FunctionPool("worker", new_host, max_environments=max_environments)
    pool.start()
    pool.wait_ready(1)
    return pool, hosts, gate


def run_in_threads(pool: FunctionPool, count: int) -> tuple[list[threading.Thread], list[Any]]:
    results: list[Any] = []
    threads = [threading.Thread(target=lambda: results.append(pool.invoke({}).payload)) for _ in range(count)]
    for thread in threads:
        thread.start()
    return threads, results


def wait_for(condition, timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_sequential_invocations_reuse_the_warm_environment():
    pool, hosts, gate = pool_with(4)
    gate.set()
    assert [pool.invoke({}).payload["host"] for _ in range(3)] == ["worker"] * 3
    assert len(hosts) == 1


def test_concurrent_invocations_get_an_environment_each():
    # Given a pool of up to 4 environments
    pool, hosts, gate = pool_with(4)
    # When three invocations overlap
    threads, results = run_in_threads(pool, 3)
    wait_for(lambda: sum(h.active for h in hosts) == 3)
    gate.set()
    for thread in threads:
        thread.join()
    # Then three environments ran one invocation each
    assert sorted(h.prefix for h in hosts) == ["worker", "worker#2", "worker#3"]
    assert all(h.most_active == 1 for h in hosts)
    assert len(results) == 3


def test_at_the_cap_invocations_wait_for_a_free_environment():
    pool, hosts, gate = pool_with(1)
    threads, results = run_in_threads(pool, 2)
    wait_for(lambda: hosts[0].active == 1)
    time.sleep(0.05)
    assert len(hosts) == 1 and results == []
    gate.set()
    for thread in threads:
        thread.join()
    assert len(results) == 2 and hosts[0].most_active == 1


def test_an_environment_that_crashed_is_replaced():
    pool, hosts, gate = pool_with(2)
    gate.set()
    hosts[0].crash = True
    with pytest.raises(FunctionUnavailable):
        pool.invoke({})
    assert hosts[0].stopped
    assert pool.invoke({}).payload["host"] == "worker#2"


def test_an_idle_environment_that_died_is_never_handed_work():
    # Given a warm environment whose process died while idle (killed, out of memory)
    pool, hosts, gate = pool_with(2)
    gate.set()
    hosts[0].dead = True
    # When the next invocation comes
    answer = pool.invoke({})
    # Then a new environment runs it and the dead one is cleaned up
    assert answer.payload["host"] == "worker#2"
    assert hosts[0].stopped and pool.size == 1


def test_an_environment_that_died_during_its_invocation_is_not_reused():
    # Given an environment that is ended while it runs (the host killed it at the function's Timeout)
    pool, hosts, gate = pool_with(2)
    threads, _ = run_in_threads(pool, 1)
    wait_for(lambda: hosts[0].active == 1)
    hosts[0].dead = True
    gate.set()
    threads[0].join(2)
    # Then the next invocation goes to a fresh environment
    assert pool.invoke({}).payload["host"] == "worker#2"
    assert hosts[0].stopped


def test_stop_stops_every_environment_and_wakes_waiting_invocations():
    pool, hosts, gate = pool_with(1)
    threads, _ = run_in_threads(pool, 1)
    wait_for(lambda: hosts[0].active == 1)
    errors: list[BaseException] = []

    def waiting() -> None:
        try:
            pool.invoke({})
        except FunctionUnavailable as exc:
            errors.append(exc)

    waiter = threading.Thread(target=waiting)
    waiter.start()
    time.sleep(0.05)
    pool.stop()
    waiter.join(2)
    gate.set()
    threads[0].join(2)
    assert hosts[0].stopped and len(errors) == 1
