"""The read side of codekg: one facade the API (and any other reader) queries.

``GraphService`` wraps a ``GraphStore``, an optional ``Searcher`` (hybrid search; ``None`` when
the server runs without embeddings) and the ``EventBus`` subscriptions are fed from. It adds
what the store does not do by itself: per-start multi-hop traversal for many entities at once
(so a DataLoader can resolve ``callers(depth: 3)`` for 100 functions in ``depth`` store calls),
search hits joined with their entities, and a span around every call::

    service = GraphService(store, searcher, bus)
    [fn] = await service.get([fid])
    callers = await service.traverse_many([fid], [RelationKind.CALLS], "in", depth=2)
    page = await service.search("parse a config file", first=5)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from opentelemetry.trace import Span

from embeddings.hybrid import SearchHit, SearchMode
from embeddings.index.base import VectorFilter
from kg.errors import InvalidInput, NotFound
from kg.events.base import EventBus, Subscription
from kg.model import Direction, Entity, EntityKind, Neighbor, Reached, Relation, RelationKind
from kg.stores.base import EntityQuery, GraphStore
from kg.telemetry import tracer

MAX_DEPTH = 10
MAX_SEARCH_WINDOW = 500
GRAPH_DELTA = "graph.delta"


@runtime_checkable
class Searcher(Protocol):
    """What the service needs from hybrid search (``embeddings.hybrid.HybridSearcher``)."""

    async def search(
        self,
        query: str,
        *,
        mode: SearchMode = "hybrid",
        filter: VectorFilter | None = None,
        limit: int = 10,
    ) -> list[SearchHit]: ...


@dataclass(frozen=True, slots=True)
class Hop:
    """An entity reached from one start entity: ``relation`` is the last edge of the path."""

    entity: Entity
    depth: int
    confidence: float
    relation: Relation
    path: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SearchResult:
    hit: SearchHit
    entity: Entity
    offset: int


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of search results; iterating it yields the results in rank order."""

    results: list[SearchResult]
    has_next: bool

    def __iter__(self) -> Iterator[SearchResult]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)


class SearchUnavailable(NotFound):
    """Search was asked for but the service runs without a vector index."""


class GraphService:
    """Read-side facade over a graph store, a searcher and an event bus."""

    def __init__(self, store: GraphStore, search: Searcher | None, bus: EventBus) -> None:
        self._store = store
        self._search = search
        self._bus = bus

    @property
    def bus(self) -> EventBus:
        return self._bus

    @property
    def can_search(self) -> bool:
        return self._search is not None

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
            frontier: dict[str, dict[str, Hop | None]] = {s: {s: None} for s in start}
            seen: dict[str, dict[str, Hop | None]] = {s: {s: None} for s in start}
            for level in range(1, depth + 1):
                asked = sorted({eid for f in frontier.values() for eid in f})
                if not asked:
                    break
                edges = await self._store.neighbors(asked, kinds, direction)
                frontier = {
                    s: _expand(f, edges, seen[s], level, limit) for s, f in frontier.items()
                }
            return {
                s: sorted(
                    (h for h in reached.values() if h is not None),
                    key=lambda h: (h.depth, h.entity.id),
                )
                for s, reached in seen.items()
            }

    async def search(
        self,
        query: str,
        *,
        mode: SearchMode = "hybrid",
        filter: VectorFilter | None = None,
        first: int = 10,
        after: int | None = None,
    ) -> SearchPage:
        """One page of hits joined with their entities; ``after`` is the offset of the last hit
        of the previous page. Hits whose entity is no longer in the graph are dropped."""
        if self._search is None:
            raise SearchUnavailable(
                "search is not available: this server runs without a vector index; "
                "start it with embeddings enabled (KG_EMBED=true) after `kg index`"
            )
        if not query.strip():
            raise InvalidInput("search: `query` is empty; pass the words or code to look for")
        start = 0 if after is None else after + 1
        window = start + first + 1
        if first < 0 or start < 0 or window > MAX_SEARCH_WINDOW:
            raise InvalidInput(
                f"search: first={first}, after={after} reaches past hit {MAX_SEARCH_WINDOW}; "
                "narrow the query or the filter instead of paging that deep"
            )
        with tracer.start_as_current_span("service.search") as span:
            span.set_attribute("kg.search.mode", mode)
            joined = await self._joined_hits(query, mode, filter, window)
            span.set_attribute("kg.search.hits", len(joined))
            page = [
                SearchResult(hit=h, entity=e, offset=i)
                for i, (h, e) in enumerate(joined)
                if start <= i < start + first
            ]
            return SearchPage(results=page, has_next=len(joined) > start + first)

    async def _joined_hits(
        self, query: str, mode: SearchMode, filter: VectorFilter | None, window: int
    ) -> list[tuple[SearchHit, Entity]]:
        """At least ``window`` hits whose entity exists, if the index has them: hits of
        entities gone from the graph (the index lags a delete) make us ask for more."""
        assert self._search is not None
        limit = window
        while True:
            hits = await self._search.search(query, mode=mode, filter=filter, limit=limit)
            entities = await self._store.get([h.id for h in hits]) if hits else []
            joined = [(h, e) for h, e in zip(hits, entities, strict=True) if e is not None]
            if len(joined) >= window or len(hits) < limit or limit >= MAX_SEARCH_WINDOW:
                return joined
            limit = min(2 * limit, MAX_SEARCH_WINDOW)

    async def repositories(self) -> list[Entity]:
        return await self.find(EntityQuery(kinds=[EntityKind.REPOSITORY], limit=1000))

    async def repository(self, name: str) -> Entity | None:
        found = await self.find(EntityQuery(repo=name, kinds=[EntityKind.REPOSITORY], limit=1))
        return found[0] if found else None

    async def stats(self, repo: str | None = None) -> dict[str, int]:
        with tracer.start_as_current_span("service.stats") as span:
            if repo is not None:
                span.set_attribute("kg.repo", repo)
            return await self._store.stats(repo)

    def subscribe_changes(self, queue_size: int = 256) -> Subscription:
        """Graph deltas published after this call (payload: ``GraphDelta.model_dump()``)."""
        return self._bus.subscribe([GRAPH_DELTA], queue_size=queue_size)


def _check_depth(depth: int) -> None:
    if not 1 <= depth <= MAX_DEPTH:
        raise InvalidInput(f"depth={depth}: traversal depth must be between 1 and {MAX_DEPTH}")


def _expand(
    frontier: dict[str, Hop | None],
    edges: dict[str, list[Neighbor]],
    seen: dict[str, Hop | None],
    level: int,
    limit: int,
) -> dict[str, Hop | None]:
    """One BFS level for one start entity: the best new hop to every newly reached entity."""
    best: dict[str, Hop] = {}
    for eid, via in frontier.items():
        conf = 1.0 if via is None else via.confidence
        path = (eid,) if via is None else via.path
        for nb in edges.get(eid, []):
            target = nb.entity.id
            if target in seen or not nb.relation.valid.is_current:
                continue
            hop = Hop(nb.entity, level, conf * nb.relation.confidence, nb.relation, (*path, target))
            old = best.get(target)
            if old is None or (hop.confidence, old.path) > (old.confidence, hop.path):
                best[target] = hop
    room = max(0, limit - (len(seen) - 1))
    chosen = dict(sorted(best.items())[:room])
    seen.update(chosen)
    return dict(chosen)


def _query_attrs(span: Span, query: EntityQuery) -> None:
    if query.repo is not None:
        span.set_attribute("kg.repo", query.repo)
    if query.kinds:
        span.set_attribute("kg.entity_kinds", [k.value for k in query.kinds])
    span.set_attribute("kg.limit", query.limit)
