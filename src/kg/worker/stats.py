"""What the worker reports about itself, and the bus tap that hands it the graph deltas."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from kg.errors import KGError
from kg.events.base import Event, EventBus, Subscription
from kg.model import GraphDelta


class DeltaTap:
    """An ``EventBus`` in front of the real one that also keeps the ``graph.delta`` payloads
    the indexer publishes, so the worker can hand them to the insights engine."""

    def __init__(self, inner: EventBus | None) -> None:
        self.inner = inner
        self.deltas: list[GraphDelta] = []

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def publish(self, event: Event) -> None:
        if event.type == "graph.delta":
            self.deltas.append(GraphDelta.model_validate(event.payload))
        if self.inner is not None:
            await self.inner.publish(event)

    def subscribe(self, types: Sequence[str], *, queue_size: int = 256) -> Subscription:
        if self.inner is None:
            raise KGError("DeltaTap has no bus to subscribe to")
        return self.inner.subscribe(types, queue_size=queue_size)

    def take(self) -> list[GraphDelta]:
        out, self.deltas = self.deltas, []
        return out


@dataclass(slots=True)
class WorkerStats:
    received: int = 0
    applied: int = 0  # events whose effects this worker stored
    duplicates: int = 0  # redelivered events already applied: skipped
    coalesced: int = 0  # file events superseded by a later one for the same path
    dead_lettered: int = 0
    unknown_repo: Counter[str] = field(default_factory=Counter)
    discussions: Counter[str] = field(default_factory=Counter)  # applied, per event.action
    discussions_ignored: int = 0  # webhook events codekg does not read (star, push...)
    batches: int = 0
    retries: int = 0
    degraded: bool = False
    last_error: str = ""
    last_resolved: int = 0  # files (re-)resolved by the latest update: the cost of a change
    vectors: str = "ok"  # the vector index: "ok", or degraded with its backlog (describe())
    vector_backlog: int = 0  # vector writes waiting for the index to come back
    embedding_pending: int = 0  # documents whose dense vector is still being computed
    # where the latest batch spent its time, ms per stage (snapshot, update, embed, ...)
    stages: dict[str, float] = field(default_factory=dict)


class Laps:
    """Milliseconds between successive ``lap`` calls, by stage name."""

    def __init__(self, into: dict[str, float]) -> None:
        into.clear()
        self._into = into
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self._into[stage] = self._into.get(stage, 0.0) + (now - self._last) * 1000
        self._last = now
