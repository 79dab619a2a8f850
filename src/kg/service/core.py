"""The service facade of codekg: what the API (and any other reader or writer) calls.

``GraphService`` wraps a ``GraphStore``, an optional ``Searcher`` (hybrid search; ``None`` when
the server runs without embeddings), the ``EventBus`` subscriptions are fed from and an optional
ingest callable (background indexing jobs). It adds what the store does not do by itself:
per-start multi-hop traversal for many entities at once (so a DataLoader can resolve
``callers(depth: 3)`` for 100 functions in ``depth`` store calls), impact analysis, shortest
paths, context packs, search hits joined with their entities, annotations, feedback and jobs,
with a span around every call::

    service = GraphService(store, searcher, bus, ingest=ingest_fn)
    [fn] = await service.get([fid])
    callers = await service.traverse_many([fid], [RelationKind.CALLS], "in", depth=2)
    page = await service.search("parse a config file", first=5)
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from opentelemetry.trace import Span

from embeddings.hybrid import SearchMode
from embeddings.index.base import VectorFilter
from kg.errors import InvalidInput, NotFound
from kg.events.base import EventBus, Subscription
from kg.model import (
    Batch,
    Direction,
    Entity,
    EntityKind,
    Neighbor,
    Reached,
    Relation,
    RelationKind,
    entity_id,
)
from kg.service.jobs import IngestFn, Job, JobRunner
from kg.service.pack import ContextPack, build_pack
from kg.service.search import Searcher, SearchPage, SearchRunner
from kg.service.walk import GraphPath, Hop, reach_groups, shortest_path
from kg.stores.base import EntityQuery, GraphStore
from kg.telemetry import tracer

MAX_DEPTH = 10
MAX_BUDGET = 100_000
MAX_ANNOTATION = 10_000
GRAPH_DELTA = "graph.delta"
INSIGHT = "insight"
# what depends on an entity: reverse edges of these kinds
DEPENDENCY_KINDS = (
    RelationKind.CALLS,
    RelationKind.IMPORTS,
    RelationKind.INHERITS,
    RelationKind.REFERENCES,
)
# what an entity is made of (a file's module, a class's methods): impact starts from all of it
STRUCTURE_KINDS = (RelationKind.CONTAINS, RelationKind.DEFINES)
CODE_KINDS = (*DEPENDENCY_KINDS, *STRUCTURE_KINDS)
MAX_NESTING = 8


class GraphService:
    """Facade over a graph store, a searcher, an event bus and background ingest jobs."""

    def __init__(
        self,
        store: GraphStore,
        search: Searcher | None,
        bus: EventBus,
        *,
        ingest: IngestFn | None = None,
    ) -> None:
        self._store = store
        self._search = SearchRunner(store, search)
        self._bus = bus
        self._jobs = JobRunner(bus, ingest)

    @property
    def bus(self) -> EventBus:
        return self._bus

    @property
    def can_search(self) -> bool:
        return self._search.available

    async def close(self) -> None:
        """Cancel running ingest jobs (the store and bus belong to whoever opened them)."""
        await self._jobs.close()

    async def get(self, ids: Sequence[str]) -> list[Entity | None]:
        with tracer.start_as_current_span("service.get") as span:
            span.set_attribute("kg.ids", len(ids))
            return await self._store.get(ids)

    async def find(self, query: EntityQuery) -> list[Entity]:
        with tracer.start_as_current_span("service.find") as span:
            _query_attrs(span, query)
            return await self._store.find(query)

    async def count(self, query: EntityQuery) -> int:
        with tracer.start_as_current_span("service.count") as span:
            _query_attrs(span, query)
            return await self._store.count(query)

    async def neighbors(
        self, ids: Sequence[str], kinds: Sequence[RelationKind] | None, direction: Direction
    ) -> dict[str, list[Neighbor]]:
        with tracer.start_as_current_span("service.neighbors") as span:
            span.set_attribute("kg.ids", len(ids))
            span.set_attribute("kg.direction", direction)
            if kinds:
                span.set_attribute("kg.relation_kinds", [k.value for k in kinds])
            return await self._store.neighbors(ids, kinds, direction)

    async def traverse(
        self,
        start: Sequence[str],
        kinds: Sequence[RelationKind],
        direction: Direction,
        depth: int,
        limit: int = 1000,
    ) -> list[Reached]:
        """Reach from all of ``start`` together (the store's own traversal)."""
        _check_depth(depth)
        with tracer.start_as_current_span("service.traverse") as span:
            span.set_attribute("kg.ids", len(start))
            span.set_attribute("kg.depth", depth)
            return await self._store.traverse(start, kinds, direction, depth, limit)

    async def traverse_many(
        self,
        start: Sequence[str],
        kinds: Sequence[RelationKind],
        direction: Direction,
        depth: int,
        limit: int = 1000,
    ) -> dict[str, list[Hop]]:
        """Breadth-first reach from each start entity separately, ``depth`` store calls in all.

        Same rules as ``GraphStore.traverse`` per start: each entity once at its smallest depth,
        the start itself excluded, ordered by (depth, id); among equally short paths the most
        confident one wins. Only current (not superseded) relations are followed.
        """
        _check_depth(depth)
        with tracer.start_as_current_span("service.traverse_many") as span:
            span.set_attribute("kg.ids", len(start))
            span.set_attribute("kg.depth", depth)
            groups = {s: [s] for s in start}
            return await reach_groups(self._store, groups, kinds, direction, depth, limit)

    async def impact(self, eid: str, depth: int, limit: int = 1000) -> list[Hop]:
        """Transitive dependents of an entity and of everything it contains or defines (a
        file's module, a class's methods): reverse CALLS/IMPORTS/INHERITS/REFERENCES, each with
        the path from the part it depends on."""
        _check_depth(depth)
        with tracer.start_as_current_span("service.impact") as span:
            span.set_attribute("kg.depth", depth)
            parts = await reach_groups(
                self._store, {eid: [eid]}, STRUCTURE_KINDS, "out", MAX_NESTING, limit
            )
            starts = [eid, *(h.entity.id for h in parts[eid])]
            found = await reach_groups(
                self._store, {eid: starts}, DEPENDENCY_KINDS, "in", depth, limit
            )
            span.set_attribute("kg.impact.count", len(found[eid]))
            return found[eid]

    async def path(
        self,
        source: str,
        target: str,
        max_depth: int,
        kinds: Sequence[RelationKind] | None = None,
        *,
        directed: bool = True,
    ) -> GraphPath | None:
        """One shortest path between two entities over ``kinds`` (code relations by default)."""
        _check_depth(max_depth)
        with tracer.start_as_current_span("service.path") as span:
            span.set_attribute("kg.depth", max_depth)
            src, dst = await self._store.get([source, target])
            if src is None or dst is None:
                return None
            walk = list(kinds) if kinds else list(CODE_KINDS)
            return await shortest_path(self._store, src, dst, walk, max_depth, directed=directed)

    async def context(self, eid: str, budget_tokens: int) -> ContextPack:
        if not 1 <= budget_tokens <= MAX_BUDGET:
            raise InvalidInput(
                f"context: budgetTokens={budget_tokens} must be between 1 and {MAX_BUDGET}"
            )
        with tracer.start_as_current_span("service.context") as span:
            span.set_attribute("kg.budget_tokens", budget_tokens)
            [target] = await self._store.get([eid])
            if target is None:
                raise NotFound(f"context: node {eid!r} does not exist; pass an `id` you got")
            return await build_pack(self._store, target, budget_tokens)

    async def search(
        self,
        query: str,
        *,
        mode: SearchMode = "hybrid",
        filter: VectorFilter | None = None,
        first: int = 10,
        after: int | None = None,
        context: str | None = None,
    ) -> SearchPage:
        """One page of hits joined with their entities; ``after`` is the offset of the last hit
        of the previous page. Hits whose entity is no longer in the graph are dropped. The page
        carries a ``search_id`` for ``feedback``. ``context``: id of the node the user is at."""
        with tracer.start_as_current_span("service.search") as span:
            span.set_attribute("kg.search.mode", mode)
            page = await self._search.page(query, mode, filter, first, after, context)
            span.set_attribute("kg.search.hits", len(page))
            return page

    async def feedback(self, search_id: str, node_id: str, useful: bool) -> Entity:
        """Record whether a hit of a search was useful (``kg.feedback.FeedbackLog``)."""
        with tracer.start_as_current_span("service.feedback"):
            return await self._search.feedback(search_id, node_id, useful)

    async def annotate(self, node_id: str, text: str) -> Entity:
        """Attach a note to a node: an Annotation entity and an ANNOTATES relation to it."""
        body = text.strip()
        if not body or len(body) > MAX_ANNOTATION:
            raise InvalidInput(
                f"annotate: text must have 1 to {MAX_ANNOTATION} characters, got {len(body)}"
            )
        [target] = await self._store.get([node_id])
        if target is None:
            raise NotFound(f"annotate: node {node_id!r} does not exist; pass an `id` you got")
        key = uuid.uuid4().hex
        scope = f"annotation:{target.repo}:{key}"
        now = datetime.now(UTC).isoformat()
        note = Entity.make(
            EntityKind.ANNOTATION,
            target.repo,
            key,
            name=body.splitlines()[0][:80],
            owner=scope,
            attrs={"text": body, "created_at": now, "target": node_id},
        )
        link = Relation(
            kind=RelationKind.ANNOTATES,
            src=note.id,
            dst=node_id,
            provenance="api:annotate",
            owner=scope,
        )
        with tracer.start_as_current_span("service.annotate"):
            await self._store.apply(
                Batch(repo=target.repo, entities=[note], relations=[link], replace_scopes={scope})
            )
        return note

    async def ingest(self, source: str) -> Job:
        """Start indexing ``source`` (a directory on this machine) in the background."""
        with tracer.start_as_current_span("service.ingest"):
            return await self._jobs.start(source)

    def job(self, job_id: str) -> Job:
        return self._jobs.get(job_id)

    async def repositories(self) -> list[Entity]:
        return await self.find(EntityQuery(kinds=[EntityKind.REPOSITORY], limit=1000))

    async def repository(self, name: str) -> Entity | None:
        [found] = await self.get([entity_id(EntityKind.REPOSITORY, name, "")])
        return found

    async def stats(self, repo: str | None = None) -> dict[str, int]:
        with tracer.start_as_current_span("service.stats") as span:
            if repo is not None:
                span.set_attribute("kg.repo", repo)
            return await self._store.stats(repo)

    def subscribe(self, types: Sequence[str], queue_size: int = 256) -> Subscription:
        """Bus events of ``types`` published after this call (bounded, drop-oldest queue)."""
        return self._bus.subscribe(list(types), queue_size=queue_size)

    def subscribe_changes(self, queue_size: int = 256) -> Subscription:
        """Graph deltas published after this call (payload: ``GraphDelta.model_dump()``)."""
        return self.subscribe([GRAPH_DELTA], queue_size=queue_size)


def _check_depth(depth: int) -> None:
    if not 1 <= depth <= MAX_DEPTH:
        raise InvalidInput(f"depth={depth}: traversal depth must be between 1 and {MAX_DEPTH}")


def _query_attrs(span: Span, query: EntityQuery) -> None:
    if query.repo is not None:
        span.set_attribute("kg.repo", query.repo)
    if query.kinds:
        span.set_attribute("kg.entity_kinds", [k.value for k in query.kinds])
    span.set_attribute("kg.limit", query.limit)
