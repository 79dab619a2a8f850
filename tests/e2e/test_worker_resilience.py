"""Retries with backoff and the circuit breaker, around a real SQLite store going down."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.errors import InvalidInput, StoreError, StoreUnavailable
from kg.model import Batch
from kg.resilience import CircuitBreaker, GuardedGraphStore, RetryPolicy, retry
from kg.stores.sqlite import SqliteGraphStore

FAST = RetryPolicy(attempts=3, base=0.001, cap=0.01)


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_backoff_grows_exponentially_up_to_the_cap() -> None:
    policy = RetryPolicy(base=0.1, factor=2, cap=0.5, jitter=0)
    assert [policy.delay(n) for n in range(4)] == [0.1, 0.2, 0.4, 0.5]


async def test_retry_cures_transient_errors_and_raises_others_at_once() -> None:
    calls: list[int] = []

    async def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise StoreError("busy")
        return "ok"

    assert await retry(flaky, FAST) == "ok" and len(calls) == 3

    async def bad() -> str:
        calls.append(1)
        raise InvalidInput("no")

    calls.clear()
    with pytest.raises(InvalidInput):
        await retry(bad, FAST)
    assert len(calls) == 1


async def test_breaker_opens_fails_fast_and_closes_after_a_good_trial(tmp_path: Path) -> None:
    inner = SqliteGraphStore(tmp_path / "g.db")
    await inner.start()
    clock = Clock()
    breaker = CircuitBreaker("graph", failures=3, reset_after=5.0, clock=clock)
    store = GuardedGraphStore(inner, breaker, RetryPolicy(attempts=1))
    await store.set_state("r", "k", "v")
    await inner.close()  # backend down
    for _ in range(3):
        with pytest.raises(StoreError):
            await store.get_state("r", "k")
    assert breaker.state == "open" and breaker.trips == 1
    with pytest.raises(StoreUnavailable, match="circuit open"):
        await store.apply(Batch(repo="r"))
    clock.t = 5.0
    assert breaker.state == "half-open"
    with pytest.raises(StoreError):  # the trial fails: open again for a full period
        await store.get_state("r", "k")
    assert breaker.state == "open" and breaker.trips == 2
    await inner.start()  # backend back
    clock.t = 10.0
    assert await store.get_state("r", "k") == "v"
    assert breaker.state == "closed"
    await inner.close()
