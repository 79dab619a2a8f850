"""Search for the service: pages of hits joined with their entities, a ``searchId`` per query.

A search id names (query, repo) so that ``feedback(searchId, nodeId, useful)`` can record a vote
for the query that produced the hit. The id is derived from the query and repo (the same search
gets the same id) and remembered in the graph store's state, so feedback works across server
restarts and across servers sharing a store; each distinct query is written once per process.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from embeddings.hybrid import SearchContext, SearchHit, SearchMode
from embeddings.index.base import VectorFilter
from kg.errors import InvalidInput, NotFound
from kg.feedback import FeedbackLog
from kg.model import Entity, content_hash
from kg.stores.base import GraphStore

MAX_SEARCH_WINDOW = 500
SEARCH_STATE_REPO = ""  # search ids are global: feedback only carries the id
SEARCH_PREFIX = "search:"
REMEMBERED = 4096  # search ids known to be stored already (saves a write per repeated search)


@runtime_checkable
class Searcher(Protocol):
    """What the service needs from hybrid search (``embeddings.hybrid.HybridSearcher``,
    re-ranked with graph signals by ``kg.ranking.GraphAwareSearcher``)."""

    async def search(
        self,
        query: str,
        *,
        mode: SearchMode = "hybrid",
        filter: VectorFilter | None = None,
        limit: int = 10,
        context: SearchContext | None = None,
    ) -> list[SearchHit]: ...


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
    search_id: str = ""

    def __iter__(self) -> Iterator[SearchResult]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)


class SearchUnavailable(NotFound):
    """Search was asked for but the service runs without a vector index."""


def search_id(query: str, repo: str | None) -> str:
    return "s_" + content_hash(json.dumps([query, repo or ""]))[:24]


class SearchRunner:
    def __init__(self, store: GraphStore, searcher: Searcher | None) -> None:
        self._store = store
        self._searcher = searcher
        self._known: OrderedDict[str, None] = OrderedDict()

    @property
    def available(self) -> bool:
        return self._searcher is not None

    async def page(
        self,
        query: str,
        mode: SearchMode,
        filter: VectorFilter | None,
        first: int,
        after: int | None,
        context: str | None = None,
    ) -> SearchPage:
        """``after`` is the offset of the last hit of the previous page; ``context`` the id of
        the entity the user is at (the open file): hits near it rank higher."""
        if self._searcher is None:
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
        near = await self._context(context)
        joined = await self._joined_hits(query, mode, filter, window, near)
        page = [
            SearchResult(hit=h, entity=e, offset=i)
            for i, (h, e) in enumerate(joined)
            if start <= i < start + first
        ]
        sid = await self._remember(query, None if filter is None else filter.repo)
        return SearchPage(results=page, has_next=len(joined) > start + first, search_id=sid)

    async def _context(self, eid: str | None) -> SearchContext | None:
        if eid is None:
            return None
        [entity] = await self._store.get([eid])
        if entity is None:
            raise NotFound(
                f"search: context {eid!r} is not a node of the graph; pass the id of the file "
                "or symbol the user is at (e.g. from `file(path:)`), or leave it out"
            )
        return SearchContext(entity_id=entity.id, path=entity.path)

    async def _joined_hits(
        self,
        query: str,
        mode: SearchMode,
        filter: VectorFilter | None,
        window: int,
        context: SearchContext | None,
    ) -> list[tuple[SearchHit, Entity]]:
        """At least ``window`` hits whose entity exists, if the index has them: hits of
        entities gone from the graph (the index lags a delete) make us ask for more."""
        assert self._searcher is not None
        limit = window
        while True:
            hits = await self._searcher.search(
                query, mode=mode, filter=filter, limit=limit, context=context
            )
            entities = await self._store.get([h.id for h in hits]) if hits else []
            joined = [(h, e) for h, e in zip(hits, entities, strict=True) if e is not None]
            if len(joined) >= window or len(hits) < limit or limit >= MAX_SEARCH_WINDOW:
                return joined
            limit = min(2 * limit, MAX_SEARCH_WINDOW)

    async def _remember(self, query: str, repo: str | None) -> str:
        sid = search_id(query, repo)
        if sid in self._known:
            self._known.move_to_end(sid)
            return sid
        value = json.dumps({"query": query, "repo": repo})
        await self._store.set_state(SEARCH_STATE_REPO, SEARCH_PREFIX + sid, value)
        self._known[sid] = None
        if len(self._known) > REMEMBERED:
            self._known.popitem(last=False)
        return sid

    async def feedback(self, sid: str, node_id: str, useful: bool) -> Entity:
        """Record a vote for ``node_id`` as a hit of the search ``sid``; returns the node."""
        raw = await self._store.get_state(SEARCH_STATE_REPO, SEARCH_PREFIX + sid)
        if raw is None:
            raise NotFound(
                f"feedback: searchId={sid!r} is unknown; pass the `searchId` a search returned"
            )
        [entity] = await self._store.get([node_id])
        if entity is None:
            raise NotFound(f"feedback: node {node_id!r} does not exist; pass a hit's node id")
        asked = json.loads(raw)
        repo = asked.get("repo") or entity.repo
        await FeedbackLog(self._store).record(
            query=asked["query"], repo=repo, node_id=node_id, useful=useful
        )
        return entity
