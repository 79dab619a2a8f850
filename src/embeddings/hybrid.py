"""Hybrid search: dense + lexical (sparse) retrieval fused with explanations.

Each signal retrieves its own ranked list from the index (``semantic``: the query embedding
against the dense vectors; ``lexical``: the code-aware sparse query against ``lexical`` with
IDF). Two fusions are offered:

* ``"score"`` (the default): a convex blend of scores normalised per query,
  ``sum(weight_s * max(0, score_s) / top_s)`` where ``top_s`` is the best score of signal ``s``
  for this query. Scores keep how *much* better a hit is, so a weak signal (BM25 on natural
  language questions) nudges the order instead of overruling a strong one. The normalisation
  has no corpus statistics and does not depend on how deep each list is.
* ``"rrf"``: weighted reciprocal rank fusion, ``sum(weight_s / (k + rank_s))``.

Every hit carries one ``SignalScore`` per signal that ran, so
``sum(s.contribution for s in hit.signals) == hit.score``::

    searcher = HybridSearcher(index, embedder, SparseEncoder())
    hits = await searcher.search("parse a config file", filter=VectorFilter(repo="codekg"))
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from embeddings.base import Embedder
from embeddings.index import payload as pl
from embeddings.index.base import (
    CollectionSpec,
    ScoredPoint,
    SparseVector,
    VectorFilter,
    VectorIndex,
    VectorPoint,
)
from embeddings.sparse import SparseEncoder
from kg.errors import ConfigError
from kg.model import AttrValue, Document

SearchMode = Literal["hybrid", "semantic", "lexical"]
FusionMethod = Literal["score", "rrf"]

SEMANTIC = "semantic"
LEXICAL = "lexical"
SIGNALS = (SEMANTIC, LEXICAL)
DENSE_VECTORS = ("code", "text")
SPARSE_VECTOR = "lexical"
QUERY_CACHE_SIZE = 256
# Tuned on the 500 CoSQA dev queries with MiniLM (``kg eval search``), documents being the code
# as written: dense alone 0.523 MRR, BM25-style lexical 0.306; the score blend is flat from
# lexical 0.1 to 0.25 (0.530, 0.531 at 0.15, 0.525, 0.526; 0.4: 0.508), so the middle of that
# plateau; weighted RRF peaks lower (k=5, lexical 0.5: 0.530; k=10, 0.3: 0.529; k=60: 0.507).
DEFAULT_FUSION: FusionMethod = "score"
DEFAULT_WEIGHTS: Mapping[str, float] = {SEMANTIC: 1.0, LEXICAL: 0.15}
RRF_K = 60.0
# Payload flag of a point whose dense vector is still being computed (background embedding).
PENDING = "pending"


@dataclass(frozen=True, slots=True)
class SignalScore:
    """One signal's part in a hit: its rank and raw score in that signal's own list (None if
    the hit was not retrieved by it), the signal's weight, and what it added to the fused score."""

    signal: str
    rank: int | None
    score: float | None
    weight: float
    contribution: float


@dataclass(frozen=True, slots=True)
class SearchHit:
    id: str
    score: float
    payload: Mapping[str, AttrValue]
    signals: list[SignalScore] = field(default_factory=list)

    @property
    def pending(self) -> bool:
        """The hit's dense vector is not computed yet: only lexical search can find it."""
        return self.payload.get(PENDING) is True


@dataclass(frozen=True, slots=True)
class SearchContext:
    """Where the user is: an entity id (e.g. the open file's) and/or a repository path.

    Part of every searcher's signature; graph re-ranking (``kg.ranking``) turns it into the
    ``proximity`` signal, plain fusion has no graph and ignores it."""

    entity_id: str | None = None
    path: str | None = None


def collection_spec(dim: int) -> CollectionSpec:
    """The collection every codekg index uses: ``code`` and ``text`` dense vectors of ``dim``
    (none when ``dim`` is 0: lexical only) and the ``lexical`` sparse vector."""
    dense = {name: dim for name in DENSE_VECTORS} if dim > 0 else {}
    return CollectionSpec(dense=dense, sparse=(SPARSE_VECTOR,))


COLLECTION_SPEC = collection_spec


def document_point(
    doc: Document, dense: Sequence[float] | None, sparse: SparseVector
) -> VectorPoint:
    """The index point of a document: its vectors and a payload the filters understand.

    ``doc.payload`` may carry ``path``, ``language``, ``name``, ``authors`` (list of str; a single
    ``author`` str is accepted too) and ``time`` (ISO 8601 str, or epoch seconds); ``eid``,
    ``repo``, ``kind`` and ``hash`` always come from ``doc``. A ``time`` that cannot be read is
    left out rather than failing the batch.
    """
    payload: dict[str, AttrValue] = dict(doc.payload)
    payload.update(
        {
            pl.EID: doc.entity_id,
            "repo": doc.repo,
            "kind": doc.kind.value,
            pl.HASH: doc.hash,
            "language": doc.payload.get("language"),
            pl.PATH: doc.payload.get(pl.PATH),
            "name": doc.payload.get("name"),
        }
    )
    path = payload[pl.PATH]
    if isinstance(path, str) and path:
        payload[pl.PATH_PREFIXES] = pl.path_prefixes(path)
    author = doc.payload.get("author")
    if "authors" not in payload and isinstance(author, str) and author:
        payload["authors"] = [author]
    time = _iso_time(payload.pop(pl.TIME, None))
    if time is not None:
        payload[pl.TIME] = time
    vectors: dict[str, list[float]] = {}
    if dense is not None:
        vectors[doc.vector] = [float(x) for x in dense]
    sparse_vectors = {SPARSE_VECTOR: sparse} if sparse.indices else {}
    return VectorPoint(doc.entity_id, vectors, sparse_vectors, payload)


def pending_point(doc: Document, sparse: SparseVector) -> VectorPoint:
    """The lexical-only point written before ``doc``'s dense vector exists.

    Its stored hash is empty, so the content-hash check still sees the document as not
    embedded (a crash before the vector arrives leaves it to the next run)."""
    point = document_point(doc, None, sparse)
    payload = dict(point.payload)
    payload.update({pl.HASH: "", PENDING: True})
    return VectorPoint(point.id, {}, point.sparse, payload)


def _iso_time(value: AttrValue) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=UTC).isoformat()
    if isinstance(value, str):
        try:
            datetime.fromisoformat(value)
        except ValueError:
            return None
        return value
    return None


class HybridSearcher:
    """Fusion of dense and lexical retrieval over one ``VectorIndex``.

    ``fusion`` picks the score blend or RRF; ``k`` damps the head of each list for RRF
    (smaller: top ranks dominate); ``weights`` scale each signal (keys ``semantic`` and
    ``lexical``; missing keys default to ``DEFAULT_WEIGHTS``); ``depth`` is how many candidates
    each signal retrieves before fusion. Without an embedder, hybrid search is lexical only.
    """

    def __init__(
        self,
        index: VectorIndex,
        embedder: Embedder | None,
        sparse: SparseEncoder,
        *,
        fusion: FusionMethod = DEFAULT_FUSION,
        k: float = RRF_K,
        weights: Mapping[str, float] | None = None,
        depth: int = 50,
        dense_vectors: Sequence[str] = DENSE_VECTORS,
    ) -> None:
        unknown = set(weights or {}) - set(SIGNALS)
        if unknown:
            raise ConfigError(f"unknown search signal(s) {sorted(unknown)}; use {list(SIGNALS)}")
        if fusion not in ("score", "rrf"):
            raise ConfigError(f"unknown fusion {fusion!r}; use 'score' or 'rrf'")
        given = weights or {}
        self._weights = {s: float(given.get(s, DEFAULT_WEIGHTS[s])) for s in SIGNALS}
        self._fusion: FusionMethod = fusion
        if k < 0 or depth < 1 or any(w < 0 for w in self._weights.values()):
            raise ConfigError(
                f"hybrid search needs k >= 0, depth >= 1 and weights >= 0 "
                f"(got k={k}, depth={depth}, weights={self._weights})"
            )
        self._index = index
        self._embedder = embedder
        self._sparse = sparse
        self._k = k
        self._depth = depth
        self._dense_vectors = tuple(dense_vectors)
        self._query_cache: OrderedDict[str, list[float]] = OrderedDict()

    async def search(
        self,
        query: str,
        *,
        mode: SearchMode = "hybrid",
        filter: VectorFilter | None = None,
        limit: int = 10,
        context: SearchContext | None = None,
    ) -> list[SearchHit]:
        """The best ``limit`` hits for ``query``, each with its per-signal explanation
        (``context`` is accepted for the searcher seam; fusion alone does not use it)."""
        if limit <= 0 or not query.strip():
            return []
        lists = await self.retrieve(query, mode=mode, filter=filter, depth=max(self._depth, limit))
        return self.fuse(lists)[:limit]

    async def retrieve(
        self,
        query: str,
        *,
        mode: SearchMode = "hybrid",
        filter: VectorFilter | None = None,
        depth: int | None = None,
    ) -> dict[str, list[ScoredPoint]]:
        """Each signal's own ranked list (``{signal: points}``), before fusion.

        With ``fuse`` this is ``search`` in two steps: evaluation retrieves once and fuses
        with several settings."""
        signals = self._signals(mode)
        n = depth or self._depth
        lists = await asyncio.gather(*(self._retrieve(s, query, filter, n) for s in signals))
        return dict(zip(signals, lists, strict=True))

    def _signals(self, mode: SearchMode) -> list[str]:
        if mode == "lexical":
            return [LEXICAL]
        if mode == "semantic":
            if self._embedder is None:
                raise ConfigError(
                    "semantic search needs an embedding model; enable embeddings (KG_EMBED=1) "
                    "or search with mode=lexical"
                )
            return [SEMANTIC]
        if mode == "hybrid":
            return [SEMANTIC, LEXICAL] if self._embedder is not None else [LEXICAL]
        raise ConfigError(f"unknown search mode {mode!r}; use hybrid, semantic or lexical")

    async def _retrieve(
        self, signal: str, query: str, flt: VectorFilter | None, depth: int
    ) -> list[ScoredPoint]:
        if signal == LEXICAL:
            sparse = self._sparse.encode_query(query)
            return await self._index.search(SPARSE_VECTOR, sparse, filter=flt, limit=depth)
        qvec = await self._query_vector(query)
        per_vector = await asyncio.gather(
            *(
                self._index.search(name, qvec, filter=flt, limit=depth)
                for name in self._dense_vectors
            )
        )
        # Same model and metric for every dense vector: cosine scores are comparable, so the
        # lists merge into one ranking (a point lives under one dense vector only).
        merged: dict[str, ScoredPoint] = {}
        for p in sorted((p for hits in per_vector for p in hits), key=lambda p: -p.score):
            merged.setdefault(p.id, p)
        return list(merged.values())[:depth]

    async def _query_vector(self, query: str) -> list[float]:
        """The query's embedding; recent ones are kept, as IDE clients repeat queries often."""
        cached = self._query_cache.get(query)
        if cached is not None:
            self._query_cache.move_to_end(query)
            return cached
        assert self._embedder is not None  # _signals only picks semantic with an embedder
        (vector,) = await asyncio.to_thread(self._embedder.embed, [query], role="query")
        self._query_cache[query] = vector
        if len(self._query_cache) > QUERY_CACHE_SIZE:
            self._query_cache.popitem(last=False)
        return vector

    @property
    def fusion(self) -> FusionMethod:
        return self._fusion

    @property
    def weights(self) -> Mapping[str, float]:
        return dict(self._weights)

    def fuse(self, lists: Mapping[str, list[ScoredPoint]]) -> list[SearchHit]:
        """All hits of the signal lists, best first, each explained per signal."""
        tops = {s: max((max(0.0, h.score) for h in hits), default=0.0) for s, hits in lists.items()}
        ranks: dict[str, dict[str, tuple[int, float]]] = {}
        payloads: dict[str, Mapping[str, AttrValue]] = {}
        for signal, hits in lists.items():
            for rank, hit in enumerate(hits, start=1):
                per_signal = ranks.setdefault(hit.id, {})
                if signal not in per_signal:
                    per_signal[signal] = (rank, hit.score)
                    payloads.setdefault(hit.id, hit.payload)
        fused = [self._hit(eid, per, payloads[eid], tops) for eid, per in ranks.items()]
        # Ties (same fused score) go to the better best rank, then the id: stable output.
        fused.sort(key=lambda h: (-h.score, _best_rank(h), h.id))
        return fused

    def _hit(
        self,
        eid: str,
        per_signal: Mapping[str, tuple[int, float]],
        payload: Mapping[str, AttrValue],
        tops: Mapping[str, float],
    ) -> SearchHit:
        parts: list[SignalScore] = []
        for signal, top in tops.items():
            weight = self._weights[signal]
            if signal in per_signal:
                rank, raw = per_signal[signal]
                if self._fusion == "rrf":
                    part = weight / (self._k + rank)
                else:
                    part = weight * max(0.0, raw) / top if top > 0 else 0.0
                parts.append(SignalScore(signal, rank, raw, weight, part))
            else:
                parts.append(SignalScore(signal, None, None, weight, 0.0))
        return SearchHit(eid, sum(p.contribution for p in parts), payload, parts)


def _best_rank(hit: SearchHit) -> int:
    return min((s.rank for s in hit.signals if s.rank is not None), default=1 << 30)
