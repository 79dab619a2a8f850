"""Retries with exponential backoff and a circuit breaker, so a down backend degrades the
service (work waits, reads fail fast with a clear error) instead of crashing it.

    breaker = CircuitBreaker("graph", failures=5, reset_after=2.0)
    store = GuardedGraphStore(store, breaker, RetryPolicy(attempts=3))
    await store.apply(batch)   # retried on StoreError/OSError; fails fast while the circuit is open
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from kg.errors import StoreError, StoreUnavailable
from kg.model import Batch, Direction, Entity, GraphDelta, Neighbor, Reached, Relation, RelationKind
from kg.stores.base import EntityQuery, GraphStore

log = logging.getLogger(__name__)

T = TypeVar("T")

# What a retry can cure: a backend that is down, restarting or busy. Anything else (bad input,
# a bug) fails the same way on every attempt, so it is raised at once.
TRANSIENT: tuple[type[BaseException], ...] = (StoreError, OSError, TimeoutError)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``attempts`` tries in all; the n-th wait is ``base * factor**n`` capped, with jitter."""

    attempts: int = 3
    base: float = 0.05
    factor: float = 2.0
    cap: float = 2.0
    jitter: float = 0.2

    def delay(self, attempt: int) -> float:
        raw = min(self.cap, self.base * self.factor**attempt)
        return raw * (1.0 + random.uniform(-self.jitter, self.jitter))


async def retry(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    transient: tuple[type[BaseException], ...] = TRANSIENT,
    what: str = "operation",
) -> T:
    """Run ``call`` until it succeeds, retrying transient errors with exponential backoff."""
    for attempt in range(policy.attempts):
        try:
            return await call()
        except transient as exc:
            if attempt + 1 >= policy.attempts:
                raise
            wait = policy.delay(attempt)
            log.warning("%s failed (%s); retry %d in %.2fs", what, exc, attempt + 1, wait)
            await asyncio.sleep(wait)
    raise AssertionError("unreachable: the loop returns or raises")


class CircuitBreaker:
    """Closed -> (``failures`` consecutive transient errors) -> open for ``reset_after`` s ->
    half-open (one trial call) -> closed on success, open again on failure.

    While open, calls fail at once with ``StoreUnavailable`` instead of piling onto a backend
    that is down. ``clock`` is injectable for tests.
    """

    def __init__(
        self,
        name: str,
        *,
        failures: int = 5,
        reset_after: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._threshold = failures
        self._reset_after = reset_after
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self.trips = 0

    @property
    def state(self) -> str:
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at >= self._reset_after:
            return "half-open"
        return "open"

    @property
    def retry_in(self) -> float:
        """Seconds until a trial call is allowed (0 when closed or half-open)."""
        if self._opened_at is None:
            return 0.0
        return max(0.0, self._reset_after - (self._clock() - self._opened_at))

    def check(self) -> None:
        if self.state == "open":
            raise StoreUnavailable(
                f"{self.name} backend is unavailable (circuit open after {self._threshold} "
                f"failures); retrying in {self.retry_in:.1f}s — check that the backend is up"
            )

    def success(self) -> None:
        self._failures = 0
        self._opened_at = None

    def failure(self) -> None:
        self._failures += 1
        if self._opened_at is not None or self._failures >= self._threshold:
            # a failed trial call (half-open) opens the circuit again for a full period
            self.trips += 1
            self._opened_at = self._clock()

    async def call(
        self,
        call: Callable[[], Awaitable[T]],
        *,
        transient: tuple[type[BaseException], ...] = TRANSIENT,
    ) -> T:
        self.check()
        try:
            result = await call()
        except transient:
            self.failure()
            raise
        self.success()
        return result


class GuardedGraphStore:
    """A ``GraphStore`` whose every call goes through retries and a circuit breaker."""

    def __init__(
        self, inner: GraphStore, breaker: CircuitBreaker, policy: RetryPolicy | None = None
    ) -> None:
        self.inner = inner
        self.breaker = breaker
        self._policy = policy or RetryPolicy()

    async def _guard(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        async def once() -> T:
            return await self.breaker.call(call)

        return await retry(once, self._policy, what=f"{self.breaker.name}.{what}")

    async def start(self) -> None:
        await self._guard("start", self.inner.start)

    async def close(self) -> None:
        await self.inner.close()

    async def apply(self, batch: Batch) -> GraphDelta:
        # Safe to retry: apply is idempotent (identical rows are not rewritten).
        return await self._guard("apply", lambda: self.inner.apply(batch))

    async def get(self, ids: Sequence[str]) -> list[Entity | None]:
        return await self._guard("get", lambda: self.inner.get(ids))

    async def find(self, query: EntityQuery) -> list[Entity]:
        return await self._guard("find", lambda: self.inner.find(query))

    async def count(self, query: EntityQuery) -> int:
        return await self._guard("count", lambda: self.inner.count(query))

    async def neighbors(
        self, ids: Sequence[str], kinds: Sequence[RelationKind] | None, direction: Direction
    ) -> dict[str, list[Neighbor]]:
        return await self._guard("neighbors", lambda: self.inner.neighbors(ids, kinds, direction))

    async def traverse(
        self,
        start: Sequence[str],
        kinds: Sequence[RelationKind],
        direction: Direction,
        depth: int,
        limit: int = 1000,
    ) -> list[Reached]:
        return await self._guard(
            "traverse", lambda: self.inner.traverse(start, kinds, direction, depth, limit)
        )

    async def relations(
        self, repo: str, kinds: Sequence[RelationKind] | None = None
    ) -> list[Relation]:
        return await self._guard("relations", lambda: self.inner.relations(repo, kinds))

    async def get_state(self, repo: str, key: str) -> str | None:
        return await self._guard("get_state", lambda: self.inner.get_state(repo, key))

    async def states(self, repo: str, prefix: str) -> dict[str, str]:
        return await self._guard("states", lambda: self.inner.states(repo, prefix))

    async def set_state(self, repo: str, key: str, value: str | None) -> None:
        await self._guard("set_state", lambda: self.inner.set_state(repo, key, value))

    async def stats(self, repo: str | None = None) -> dict[str, int]:
        return await self._guard("stats", lambda: self.inner.stats(repo))
