"""Retries with exponential backoff and a circuit breaker, so a down backend degrades the
service (work waits, reads fail fast with a clear error) instead of crashing it.

    breaker = CircuitBreaker("graph", failures=5, reset_after=2.0)
    store = GuardedGraphStore(store, breaker, RetryPolicy(attempts=3))
    await store.apply(batch)   # retried on StoreError/OSError; fails fast while the circuit is open

``GuardedVectorIndex`` parks vector writes while the index is down and replays them later.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from embeddings.index.base import (
    CollectionSpec,
    ScoredPoint,
    SparseVector,
    VectorFilter,
    VectorIndex,
    VectorPoint,
)
from embeddings.index.payload import HASH
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

    @property
    def concurrent_applies(self) -> int:
        return self.inner.concurrent_applies

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


class GuardedVectorIndex:
    """A ``VectorIndex`` whose writes never fail the caller while the index is down.

    The graph is the source of truth and vectors are derived from it, so a down vector store
    must not stop the graph from following edits. A write that fails with a transient error
    (or arrives while the circuit is open, or while older writes still wait) is parked in a
    bounded backlog, latest write per id wins, and replayed by ``catch_up`` once the breaker
    allows a trial call. ``hashes`` answers for parked points from the backlog, so text that
    is already waiting is not embedded again; other reads go through the breaker and fail fast
    with ``StoreUnavailable`` while it is open. Past ``max_backlog`` parked points the oldest
    are dropped (counted in ``lost``: re-embed them with ``kg index`` once the index is back).

        vectors = GuardedVectorIndex(index, CircuitBreaker("vector index"))
        await vectors.upsert(points)     # parked if the index is down
        await vectors.catch_up()         # replays the backlog when the index is back
    """

    def __init__(
        self,
        inner: VectorIndex,
        breaker: CircuitBreaker,
        *,
        max_backlog: int = 5000,
        chunk: int = 256,
        transient: tuple[type[BaseException], ...] = TRANSIENT,
    ) -> None:
        self.inner = inner
        self.breaker = breaker
        self._max_backlog = max_backlog
        self._chunk = chunk
        self._transient = transient
        # id -> latest write: a point to upsert, or None for a delete
        self._pending: dict[str, VectorPoint | None] = {}
        self._replay = asyncio.Lock()
        self.lost = 0
        self.caught_up = 0
        self.last_error = ""

    @property
    def backlog(self) -> int:
        return len(self._pending)

    @property
    def degraded(self) -> bool:
        return bool(self._pending) or self.breaker.state != "closed"

    def describe(self) -> str:
        """One line for logs and status reports."""
        if not self.degraded:
            return f"{self.breaker.name}: ok"
        lost = f", {self.lost} dropped (re-run `kg index`)" if self.lost else ""
        return (
            f"{self.breaker.name}: degraded, {self.backlog} vector writes waiting{lost}; "
            f"circuit {self.breaker.state}, next try in {self.breaker.retry_in:.1f}s; "
            f"last error: {self.last_error}"
        )

    async def ensure(self, spec: CollectionSpec) -> None:
        await self.breaker.call(lambda: self.inner.ensure(spec), transient=self._transient)

    async def upsert(self, points: Sequence[VectorPoint]) -> None:
        if points:
            await self._write({p.id: p for p in points})

    async def delete(self, ids: Sequence[str]) -> None:
        if ids:
            await self._write(dict.fromkeys(ids))

    async def _write(self, writes: dict[str, VectorPoint | None]) -> None:
        if not self._pending and self.breaker.state != "open":
            try:
                await self.breaker.call(lambda: self._send(writes), transient=self._transient)
                return
            except self._transient as exc:
                self._went_down(exc)
        self._park(writes)
        await self.catch_up()

    async def _send(self, writes: dict[str, VectorPoint | None]) -> None:
        gone = [i for i, p in writes.items() if p is None]
        points = [p for p in writes.values() if p is not None]
        if gone:
            await self.inner.delete(gone)
        for start in range(0, len(points), self._chunk):
            await self.inner.upsert(points[start : start + self._chunk])

    def _went_down(self, exc: BaseException) -> None:
        if not self._pending:
            log.warning(
                "%s unavailable, vector writes parked until it is back (the graph keeps "
                "updating): %s",
                self.breaker.name,
                exc,
            )
        self.last_error = str(exc)

    def _park(self, writes: dict[str, VectorPoint | None]) -> None:
        for eid, point in writes.items():
            self._pending.pop(eid, None)  # re-inserted last: the oldest stay first in line
            self._pending[eid] = point
        over = len(self._pending) - self._max_backlog
        if over > 0:
            for eid in list(self._pending)[:over]:
                del self._pending[eid]
            self.lost += over
            log.error(
                "%s backlog full: %d vector writes dropped; run `kg index` once it is back",
                self.breaker.name,
                over,
            )

    async def catch_up(self) -> int:
        """Replay parked writes if the breaker allows a call; how many were written."""
        if not self._pending or self.breaker.state == "open":
            return 0
        async with self._replay:
            todo = dict(self._pending)
            try:
                await self.breaker.call(lambda: self._send(todo), transient=self._transient)
            except self._transient as exc:
                self.last_error = str(exc)
                return 0
            for eid, point in todo.items():
                if self._pending.get(eid, point) is point:  # not re-written meanwhile
                    self._pending.pop(eid, None)
        self.caught_up += len(todo)
        if not self._pending:
            log.warning(
                "%s is back: %d parked vector writes caught up", self.breaker.name, len(todo)
            )
        return len(todo)

    async def hashes(self, ids: Sequence[str]) -> dict[str, str]:
        try:
            found = await self.breaker.call(
                lambda: self.inner.hashes(ids), transient=self._transient
            )
        except self._transient as exc:
            self._went_down(exc)
            found = {}
        for eid in ids:
            if eid in self._pending:
                point = self._pending[eid]
                digest = point.payload.get(HASH) if point is not None else None
                if isinstance(digest, str):
                    found[eid] = digest
                else:
                    found.pop(eid, None)
        return found

    async def search(
        self,
        vector: str,
        query: list[float] | SparseVector,
        *,
        filter: VectorFilter | None = None,
        limit: int = 10,
    ) -> list[ScoredPoint]:
        return await self.breaker.call(
            lambda: self.inner.search(vector, query, filter=filter, limit=limit),
            transient=self._transient,
        )

    async def count(self, filter: VectorFilter | None = None) -> int:
        return await self.breaker.call(lambda: self.inner.count(filter), transient=self._transient)

    async def close(self) -> None:
        await self.inner.close()
