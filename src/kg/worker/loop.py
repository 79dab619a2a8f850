"""The worker: applies source events incrementally, exactly once in effect.

Reads ``file.changed``, ``commit.pushed``, ``ingest.requested`` and ``discussion.*`` from an
``EventSource`` (a Kafka consumer group, or the in-process bus), in bounded batches:

1. decode and validate each event (``parse_payload``); poison events go to the dead-letter
   destination with the error and never block the stream;
2. skip events whose id is recorded as processed (redelivery after a crash);
3. coalesce file events per (repo, path), latest wins, so a burst of saves costs one update;
4. apply through ONE long-lived ``Indexer`` (its per-repo cache is reused): ``update_files``
   for file events, ``index`` for pushes and ingest requests;
5. record the processed event ids in the store (``event:<id>`` state, one batch), feed the
   graph deltas to the insights engine, then commit the offsets.

A store that is down opens the circuit breaker: the worker keeps the batch, reports itself
degraded and retries after the breaker's reset time instead of crashing.

    worker = Worker(store, indexer, source, tap=tap, insights=engine)
    await worker.run()    # until stop()
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from kg.embedding_stage import EmbeddingStage
from kg.errors import InvalidInput, StoreError
from kg.events.base import Event
from kg.events.schema import (
    CommitPushed,
    DiscussionEvent,
    FileChanged,
    IngestRequested,
    is_source_event,
    parse_payload,
)
from kg.events.source import Delivery, EventSource
from kg.insights.engine import InsightEngine
from kg.model import Batch, Entity, EntityKind, GraphDelta, entity_id, merge_deltas
from kg.pipeline import FileChange, Indexer
from kg.resilience import CircuitBreaker, GuardedGraphStore, GuardedVectorIndex
from kg.stores.base import EntityQuery, GraphStore
from kg.worker.discussions import DiscussionWork, apply_discussion, plan_discussion
from kg.worker.stats import DeltaTap, Laps, WorkerStats

if TYPE_CHECKING:
    from kg.runtime import Runtime

log = logging.getLogger(__name__)

EVENT_STATE = "event:"
SNAPSHOT_MAX_PATHS = 50  # "before" symbols for insights; a bulk change skips the comparison


@dataclass(slots=True)
class _RepoWork:
    root: Path | None = None
    files: dict[str, FileChange] = field(default_factory=dict)
    reindex: bool = False
    discussions: list[DiscussionWork] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    events: list[Delivery] = field(default_factory=list)


class Worker:
    def __init__(
        self,
        store: GraphStore,
        indexer: Indexer,
        source: EventSource,
        *,
        tap: DeltaTap | None = None,
        insights: InsightEngine | None = None,
        breaker: CircuitBreaker | None = None,
        embedding: EmbeddingStage | None = None,
        vectors: GuardedVectorIndex | None = None,
        max_batch: int = 1000,
        fetch_wait: float = 0.2,
        retention: timedelta = timedelta(days=7),
    ) -> None:
        self._store = store
        self._indexer = indexer
        self._source = source
        self._tap = tap
        self._insights = insights
        self._breaker = breaker
        self._embedding = embedding  # for discussion text (the indexer embeds code itself)
        self._vectors = vectors
        self._max_batch = max_batch
        self._fetch_wait = fetch_wait
        self._retention = retention
        self._done: dict[str, set[str]] = {}  # repo -> processed event ids
        self._roots: dict[str, Path | None] = {}
        self._stopping = asyncio.Event()
        self.stats = WorkerStats()

    async def prepare(self, repo: str) -> None:
        """Load what the first event of ``repo`` would otherwise wait for: the processed ids
        and the indexer's per-repo cache (every file's symbol table)."""
        await self._processed(repo)
        await self._indexer.warm(repo)

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        """Process batches until ``stop()``."""
        while not self._stopping.is_set():
            await self.step()
        if self._insights is not None:
            await self._insights.flush()
        if self._embedding is not None:
            await self._embedding.close()  # queued text keeps its lexical point meanwhile

    async def step(self) -> int:
        """Fetch one batch, apply it, commit it; returns how many events were received."""
        deliveries = await self._source.fetch(self._max_batch, self._fetch_wait)
        if self._insights is not None:
            await self._insights.flush_due()
        await self._check_vectors()
        if not deliveries:
            return 0
        self.stats.received += len(deliveries)
        while True:
            try:
                await self._process(deliveries)
                break
            except StoreError as exc:  # down, or refused: the breaker decides when to retry
                # Keep the batch (uncommitted) and wait for the backend instead of crashing.
                self.stats.degraded, self.stats.last_error = True, str(exc)
                self.stats.retries += 1
                log.warning("store unavailable, batch kept for retry: %s", exc)
                wait = self._breaker.retry_in if self._breaker is not None else 0.5
                if self._stopping.is_set():
                    raise
                await asyncio.sleep(max(wait, 0.1))
        self.stats.degraded = False
        await self._source.commit(deliveries)
        self.stats.batches += 1
        await self._check_vectors()
        return len(deliveries)

    async def _check_vectors(self) -> None:
        """Replay parked vector writes when the index is back; report its state."""
        v = self._vectors
        if v is None:
            return
        await v.catch_up()
        if self._embedding is not None:
            self.stats.embedding_pending = self._embedding.status().pending
        state = v.describe() if v.degraded else "ok"
        if (state == "ok") != (self.stats.vectors == "ok"):
            log.warning("worker vectors: %s", state)
        self.stats.vectors, self.stats.vector_backlog = state, v.backlog

    # -- planning -------------------------------------------------------------------------

    async def _process(self, deliveries: Sequence[Delivery]) -> None:
        work: dict[str, _RepoWork] = {}
        for delivery in deliveries:
            await self._plan(delivery, work)
        for repo, item in work.items():
            await self._apply(repo, item)

    async def _plan(self, delivery: Delivery, work: dict[str, _RepoWork]) -> None:
        event = delivery.event
        if event is None:
            await self._dead(delivery, delivery.error or "undecodable record")
            return
        if not is_source_event(event):
            return  # another service's output (graph.delta, insight...): not ours to apply
        if event.id in await self._processed(event.repo):
            self.stats.duplicates += 1
            return
        try:
            payload = parse_payload(event)
            _check(payload)
            discussion = (
                plan_discussion(event.repo, payload)
                if isinstance(payload, DiscussionEvent)
                else None
            )
        except InvalidInput as exc:
            await self._dead(delivery, str(exc))
            return
        item = work.setdefault(event.repo, _RepoWork())
        item.ids.append(event.id)
        item.events.append(delivery)
        if isinstance(payload, FileChanged):
            if payload.root and item.root is None:
                item.root = Path(payload.root)
            if payload.path in item.files:
                self.stats.coalesced += 1
            data = payload.content.encode("utf-8", "surrogatepass") if payload.content else None
            if payload.content == "":
                data = b""
            item.files[payload.path] = FileChange(payload.path, data, payload.deleted)
        elif isinstance(payload, CommitPushed):
            item.reindex = True
            item.root = Path(payload.root) if payload.root else item.root
        elif isinstance(payload, IngestRequested):
            item.reindex = True
            item.root = Path(payload.source)
        elif discussion is not None:
            item.discussions.append(discussion)
        elif isinstance(payload, DiscussionEvent):
            self.stats.discussions_ignored += 1

    async def _processed(self, repo: str) -> set[str]:
        done = self._done.get(repo)
        if done is None:
            entries = await self._store.states(repo, EVENT_STATE)
            horizon = (datetime.now(UTC) - self._retention).isoformat()
            stale: dict[str, str | None] = {k: None for k, v in entries.items() if v < horizon}
            if stale:
                await self._store.apply(Batch(repo=repo, state=dict(stale)))
            done = {k[len(EVENT_STATE) :] for k in entries if k not in stale}
            self._done[repo] = done
        return done

    async def _root(self, repo: str) -> Path | None:
        if repo not in self._roots:
            (entity,) = await self._store.get([entity_id(EntityKind.REPOSITORY, repo, "")])
            root = entity.attrs.get("root") if entity is not None else None
            self._roots[repo] = Path(root) if isinstance(root, str) else None
        return self._roots[repo]

    # -- applying -------------------------------------------------------------------------

    async def _known(self, repo: str, item: _RepoWork) -> Path | None:
        """The working tree of ``repo``, or None when the events cannot be applied to it:
        code needs the tree on disk; discussions only need the repository to be indexed."""
        root = item.root or await self._root(repo)
        if root is None:
            return None
        if (item.reindex or item.files) and not await asyncio.to_thread(root.is_dir):
            return None
        return root

    async def _apply(self, repo: str, item: _RepoWork) -> None:
        root = await self._known(repo, item)
        if root is None:
            self.stats.unknown_repo[repo] += len(item.ids)
            why = (
                f"unknown repository {repo!r}: not indexed and the event names no root; "
                "run `kg index PATH` first or send the root with the event"
            )
            for delivery in item.events:
                await self._source.dead_letter(delivery, why)
            await self._mark(repo, item.ids)
            return
        self._roots[repo] = root
        laps = Laps(self.stats.stages)
        before = await self._snapshot(repo, list(item.files)) if self._insights else {}
        laps.lap("snapshot")
        if item.reindex or item.files:
            report = await (
                self._indexer.index(root, repo)
                if item.reindex
                else self._indexer.update_files(root, list(item.files.values()), repo)
            )
            self.stats.last_resolved = report.files_resolved
            laps.lap("update")
            self.stats.stages["embed"] = report.embed_seconds * 1000  # part of "update"
        # after the code: links find symbols this batch added; before the insights: an open
        # thread that now mentions an edited symbol is seen by the open-discussion rule
        discussed = [d for work in item.discussions for d in await self._apply_discussion(work)]
        laps.lap("discussions")
        await self._mark(repo, item.ids)
        self.stats.applied += len(item.ids)
        laps.lap("mark")
        deltas = self._tap.take() if self._tap is not None else []
        if self._insights is not None and deltas:
            delta = merge_deltas(repo, deltas)
            await self._insights.observe(delta, before=before, changed_paths=sorted(item.files))
            laps.lap("insights")
        if discussed:
            discussion = merge_deltas(repo, discussed)
            await self._publish(discussion)
            if self._insights is not None:  # review latency, for one
                await self._insights.observe(discussion)

    async def _apply_discussion(self, work: DiscussionWork) -> list[GraphDelta]:
        deltas = await apply_discussion(self._store, work, embedding=self._embedding)
        self.stats.discussions[f"{work.event}.{work.action}" if work.action else work.event] += 1
        return deltas

    async def _publish(self, delta: GraphDelta) -> None:
        bus = self._tap.inner if self._tap is not None else None
        if bus is not None and not delta.is_empty:
            await bus.publish(Event.of("graph.delta", repo=delta.repo, payload=delta.model_dump()))

    async def _snapshot(self, repo: str, paths: Sequence[str]) -> dict[str, Entity]:
        if not paths or len(paths) > SNAPSHOT_MAX_PATHS:
            return {}
        out: dict[str, Entity] = {}
        kinds = [EntityKind.FUNCTION, EntityKind.CLASS]
        for path in paths:
            for e in await self._store.find(
                EntityQuery(repo=repo, path=path, kinds=kinds, limit=5000)
            ):
                out[e.id] = e
        return out

    async def _mark(self, repo: str, ids: Sequence[str]) -> None:
        if not ids:
            return
        now = datetime.now(UTC).isoformat()
        state: dict[str, str | None] = {EVENT_STATE + i: now for i in ids}
        await self._store.apply(Batch(repo=repo, state=state))
        self._done.setdefault(repo, set()).update(ids)

    async def _dead(self, delivery: Delivery, error: str) -> None:
        self.stats.dead_lettered += 1
        log.warning("dead-lettered event: %s", error)
        await self._source.dead_letter(delivery, error)
        if delivery.event is not None:
            await self._mark(delivery.event.repo, [delivery.event.id])


def _check(payload: object) -> None:
    """Reject what parses but cannot be applied safely (paths escaping the repository)."""
    if isinstance(payload, FileChanged):
        path = PurePosixPath(payload.path)
        if not payload.path or path.is_absolute() or ".." in path.parts:
            raise InvalidInput(
                f"file.changed: field 'path': {payload.path!r} must be relative to the "
                "repository root, without '..'"
            )


def assemble(
    rt: Runtime,
    source: EventSource,
    *,
    insights: bool = True,
    max_batch: int = 1000,
    fetch_wait: float = 0.2,
    background_embedding: bool = True,
) -> Worker:
    """A worker over a runtime's backends: the graph store behind retries and a circuit
    breaker, the vector index behind a breaker with a backlog (a down index delays vectors,
    never events), one long-lived indexer whose deltas also feed the insights engine."""
    s = rt.settings
    breaker = CircuitBreaker("graph store")
    store = GuardedGraphStore(rt.store, breaker)
    tap = DeltaTap(rt.bus)
    # A down vector index parks its writes instead of failing events (see GuardedVectorIndex).
    vectors = (
        GuardedVectorIndex(rt.index, CircuitBreaker("vector index", failures=2, reset_after=5.0))
        if rt.index is not None
        else None
    )
    # Background: a save's graph.delta does not wait for the model; the changed text is
    # found lexically at once and its dense vector follows.
    embedding = rt.embedding_stage(index=vectors, background=background_embedding)
    indexer = Indexer(
        store,
        rt.registry,
        embedding=embedding,
        bus=tap,
        max_file_bytes=s.max_file_bytes,
        include_generated=s.include_generated,
        history=s.history,
    )
    engine = InsightEngine(store, rt.bus) if insights else None
    return Worker(
        store,
        indexer,
        source,
        tap=tap,
        insights=engine,
        breaker=breaker,
        embedding=embedding,
        vectors=vectors,
        max_batch=max_batch,
        fetch_wait=fetch_wait,
    )
