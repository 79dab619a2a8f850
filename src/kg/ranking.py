"""Graph-aware ranking: hybrid search hits re-scored with what the graph knows about them.

``GraphAwareSearcher`` implements the service's ``Searcher`` protocol. It asks the wrapped
``HybridSearcher`` for more candidates than wanted, then adds four signals, each a value in
[0, 1] (feedback in [-1, 1]) times its weight times the best base score of the query (so a
weight reads as "up to this fraction of the top hit's score", whatever the fusion's scale):

* ``centrality``: PageRank over CALLS/IMPORTS/INHERITS, log-scaled against the repository's
  most central entity; computed once per repository and dropped when a ``graph.delta`` for it
  arrives on the bus (or ``invalidate`` is called);
* ``proximity``: closeness to a context entity (the file open in the IDE): 1 for the same file,
  then halving per directory step apart, or ``1 / (1 + hops)`` along code relations;
* ``recency``: half-life decay of the last commit that MODIFIES the hit (or its file);
* ``feedback``: net votes from the ``feedback`` mutation for queries of the same pattern.

Every hit keeps the base signals' explanations and gets one ``SignalScore`` per graph signal,
so ``hit.score == sum(s.contribution for s in hit.signals)`` still holds::

    searcher = GraphAwareSearcher(hybrid, store, feedback=FeedbackLog(store), bus=bus)
    hits = await searcher.search("parse config", context=SearchContext(path="src/kg/cli.py"))
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Protocol

from embeddings.hybrid import SearchContext as SearchContext
from embeddings.hybrid import SearchHit, SearchMode, SignalScore
from embeddings.index.base import VectorFilter
from kg.errors import ConfigError
from kg.events.base import EventBus
from kg.feedback import FeedbackLog
from kg.model import EntityKind, RelationKind, entity_id
from kg.stores.algorithms import STRUCTURAL_KINDS, pagerank
from kg.stores.base import GraphStore

GRAPH_DELTA = "graph.delta"
CENTRALITY, PROXIMITY, RECENCY, FEEDBACK = "centrality", "proximity", "recency", "feedback"
GRAPH_SIGNALS = (CENTRALITY, PROXIMITY, RECENCY, FEEDBACK)
PROXIMITY_KINDS = (*STRUCTURAL_KINDS, RelationKind.DEFINES, RelationKind.CONTAINS)


class BaseSearcher(Protocol):
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
class RankingWeights:
    """Weights of the graph signals, as fractions of the query's top base score."""

    centrality: float = 0.05
    proximity: float = 0.2
    recency: float = 0.05
    feedback: float = 0.5
    recency_half_life_days: float = 180.0
    proximity_hops: int = 2

    def of(self, signal: str) -> float:
        return float(getattr(self, signal))


class GraphAwareSearcher:
    """A ``Searcher`` that re-ranks a base searcher's hits with graph signals."""

    def __init__(
        self,
        base: BaseSearcher,
        store: GraphStore,
        *,
        feedback: FeedbackLog | None = None,
        weights: RankingWeights | None = None,
        bus: EventBus | None = None,
        overfetch: int = 3,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._weights = weights or RankingWeights()
        if any(self._weights.of(s) < 0 for s in GRAPH_SIGNALS) or overfetch < 1:
            raise ConfigError(
                f"graph ranking needs weights >= 0 and overfetch >= 1 "
                f"(got {self._weights}, overfetch={overfetch})"
            )
        if self._weights.recency_half_life_days <= 0:
            raise ConfigError("graph ranking: recency_half_life_days must be > 0")
        self._base = base
        self._store = store
        self._feedback = feedback
        self._bus = bus
        self._overfetch = overfetch
        self._clock = clock
        self._centrality: dict[str, dict[str, float]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._watcher: asyncio.Task[None] | None = None

    # -- cache -----------------------------------------------------------------------------

    def invalidate(self, repo: str | None = None) -> None:
        """Forget cached centrality of ``repo`` (every repository when None)."""
        if repo is None:
            self._centrality.clear()
        else:
            self._centrality.pop(repo, None)

    def _watch(self) -> None:
        # Started on first use (not in the constructor): needs a running loop.
        if self._bus is None or self._watcher is not None:
            return
        subscription = self._bus.subscribe([GRAPH_DELTA])

        async def follow() -> None:
            async for event in subscription:
                self.invalidate(event.repo)

        self._watcher = asyncio.create_task(follow(), name="ranking-invalidation")

    async def close(self) -> None:
        task, self._watcher = self._watcher, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def centrality(self, repo: str) -> dict[str, float]:
        """``{entity id: value in [0, 1]}``: log-scaled PageRank, cached per repository."""
        cached = self._centrality.get(repo)
        if cached is not None:
            return cached
        async with self._locks.setdefault(repo, asyncio.Lock()):
            if repo not in self._centrality:
                self._centrality[repo] = _log_scaled(await pagerank(self._store, repo))
            return self._centrality[repo]

    # -- search ----------------------------------------------------------------------------

    async def search(
        self,
        query: str,
        *,
        mode: SearchMode = "hybrid",
        filter: VectorFilter | None = None,
        limit: int = 10,
        context: SearchContext | None = None,
    ) -> list[SearchHit]:
        """The best ``limit`` hits after graph re-ranking, each explained per signal."""
        if limit <= 0:
            return []
        self._watch()
        hits = await self._base.search(
            query, mode=mode, filter=filter, limit=max(limit * self._overfetch, 30)
        )
        if not hits:
            return []
        values = await self._signal_values(query, hits, context)
        scale = max(h.score for h in hits) or 1.0
        ranked = [self._rescore(h, values, scale) for h in hits]
        ranked.sort(key=lambda h: (-h.score, h.id))
        return ranked[:limit]

    async def _signal_values(
        self, query: str, hits: Sequence[SearchHit], context: SearchContext | None
    ) -> dict[str, dict[str, float]]:
        w = self._weights
        wanted = {
            CENTRALITY: self._centrality_values(hits) if w.centrality else None,
            PROXIMITY: self._proximity_values(hits, context) if w.proximity and context else None,
            RECENCY: self._recency_values(hits) if w.recency else None,
            FEEDBACK: self._feedback_values(query, hits) if w.feedback and self._feedback else None,
        }
        jobs = {name: job for name, job in wanted.items() if job is not None}
        results = await asyncio.gather(*jobs.values())
        return dict(zip(jobs, results, strict=True))

    def _rescore(
        self, hit: SearchHit, values: Mapping[str, Mapping[str, float]], scale: float
    ) -> SearchHit:
        parts = list(hit.signals)
        for signal, per_hit in values.items():
            value = per_hit.get(hit.id, 0.0)
            weight = self._weights.of(signal)
            rank = _rank_of(hit.id, per_hit)
            parts.append(SignalScore(signal, rank, value, weight, weight * value * scale))
        return replace(hit, score=sum(p.contribution for p in parts), signals=parts)

    async def _centrality_values(self, hits: Sequence[SearchHit]) -> dict[str, float]:
        out: dict[str, float] = {}
        for repo in sorted({_repo(h) for h in hits} - {""}):
            ranks = await self.centrality(repo)
            out.update({h.id: ranks[h.id] for h in hits if _repo(h) == repo and h.id in ranks})
        return out

    async def _proximity_values(
        self, hits: Sequence[SearchHit], context: SearchContext | None
    ) -> dict[str, float]:
        assert context is not None
        out: dict[str, float] = {}
        if context.path:
            for h in hits:
                path = h.payload.get("path")
                if isinstance(path, str) and path:
                    out[h.id] = path_proximity(context.path, path)
        if context.entity_id:
            hops = self._weights.proximity_hops
            both = await asyncio.gather(
                *(
                    self._store.traverse([context.entity_id], PROXIMITY_KINDS, way, hops)
                    for way in ("out", "in")
                )
            )
            depth = {context.entity_id: 0}
            for r in (r for reached in both for r in reached):
                depth[r.entity.id] = min(r.depth, depth.get(r.entity.id, r.depth))
            for h in hits:
                if h.id in depth:
                    out[h.id] = max(out.get(h.id, 0.0), 1.0 / (1 + depth[h.id]))
        return {k: v for k, v in out.items() if v > 0}

    async def _recency_values(self, hits: Sequence[SearchHit]) -> dict[str, float]:
        files = {h.id: _file_id(h) for h in hits}
        asked = sorted({h.id for h in hits} | {f for f in files.values() if f})
        edges = await self._store.neighbors(asked, [RelationKind.MODIFIES], "in")
        last: dict[str, datetime] = {}
        for eid, neighbors in edges.items():
            times = [n.relation.valid.from_time for n in neighbors if n.relation.valid.from_time]
            if times:
                last[eid] = max(_aware(t) for t in times if t is not None)
        now, half_life = self._clock(), self._weights.recency_half_life_days
        out: dict[str, float] = {}
        for h in hits:
            file_id = files[h.id]
            when = last.get(h.id) or (last.get(file_id) if file_id else None)
            if when is not None:
                age_days = max(0.0, (now - when).total_seconds() / 86400.0)
                out[h.id] = 0.5 ** (age_days / half_life)
        return out

    async def _feedback_values(self, query: str, hits: Sequence[SearchHit]) -> dict[str, float]:
        assert self._feedback is not None
        out: dict[str, float] = {}
        for repo in sorted({_repo(h) for h in hits} - {""}):
            votes = await self._feedback.boosts(repo, query)
            for h in hits:
                if _repo(h) == repo and votes.get(h.id):
                    # Saturating: the first votes count most, a pile-on cannot swamp relevance.
                    out[h.id] = math.tanh(votes[h.id] / 2.0)
        return out


def path_proximity(context: str, path: str) -> float:
    """1 for the same file, 0.5 in the same directory, halving per directory step apart."""
    a = [p for p in context.replace("\\", "/").strip("/").split("/") if p]
    b = [p for p in path.replace("\\", "/").strip("/").split("/") if p]
    if a == b:
        return 1.0
    common = 0
    for x, y in zip(a[:-1], b[:-1], strict=False):
        if x != y:
            break
        common += 1
    steps = (len(a) - 1 - common) + (len(b) - 1 - common)
    return 0.5 ** (1 + steps)


def _log_scaled(ranks: Mapping[str, float]) -> dict[str, float]:
    """PageRank is heavy-tailed: ``log1p(n * pr)`` (an average entity gets log 2) over the max."""
    if not ranks:
        return {}
    n = len(ranks)
    top = math.log1p(n * max(ranks.values()))
    return {eid: math.log1p(n * pr) / top for eid, pr in ranks.items()} if top > 0 else {}


def _rank_of(eid: str, values: Mapping[str, float]) -> int | None:
    value = values.get(eid)
    if not value:
        return None
    return 1 + sum(1 for v in values.values() if v > value)


def _repo(hit: SearchHit) -> str:
    repo = hit.payload.get("repo")
    return repo if isinstance(repo, str) else ""


def _file_id(hit: SearchHit) -> str | None:
    path, repo = hit.payload.get("path"), _repo(hit)
    if isinstance(path, str) and path and repo:
        return entity_id(EntityKind.FILE, repo, path)
    return None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
