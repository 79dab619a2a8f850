"""VectorIndex on Qdrant's embedded engine (``qdrant-edge-py``): one shard in a local directory.

The engine is synchronous; every call runs in a worker thread so the event loop stays free.
Example::

    index = EdgeVectorIndex(Path(".kg/vectors"))
    await index.ensure(CollectionSpec(dense={"code": 384}))
    await index.upsert([VectorPoint("Function:ab12", dense={"code": vec}, payload={...})])
    hits = await index.search("code", vec, filter=VectorFilter(repo="codekg"))
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import qdrant_edge as qe

from embeddings.index import payload as pl
from embeddings.index.base import (
    CollectionSpec,
    ScoredPoint,
    SparseVector,
    VectorFilter,
    VectorPoint,
)
from kg.errors import InvalidInput, StoreError
from kg.model import AttrValue

if TYPE_CHECKING:
    from qdrant_edge import ConditionType, NamedVector, PointId

_CONFIG_FILE = "edge_config.json"
_SCHEMA: Mapping[pl.IndexType, qe.PayloadSchemaType] = {
    "keyword": qe.PayloadSchemaType.Keyword,
    "datetime": qe.PayloadSchemaType.Datetime,
}


class EdgeVectorIndex:
    """A VectorIndex stored under ``path`` (created by ``ensure``; reopened on later runs)."""

    def __init__(self, path: Path) -> None:
        self._path = Path(path)
        self._shard: qe.EdgeShard | None = None
        self._spec: CollectionSpec | None = None
        # Guards opening/closing the shard; the engine itself is safe for concurrent calls.
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        return self._path

    # -- lifecycle -------------------------------------------------------------------------

    async def ensure(self, spec: CollectionSpec) -> None:
        await asyncio.to_thread(self._ensure, spec)

    def _ensure(self, spec: CollectionSpec) -> None:
        with self._lock:
            if self._shard is not None and self._spec not in (None, spec):
                raise StoreError(
                    f"vector index {self._path} is open with {self._spec}, not {spec}; "
                    "use another directory for a different embedding model"
                )
            if self._shard is not None and self._spec is None:
                # Opened by a read without a spec: reload so the engine checks compatibility.
                self._shard.close()
                self._shard = None
            if self._shard is None:
                self._shard = self._open(_config(spec))
            shard = self._shard
            self._spec = spec
        present = set(shard.info().payload_schema)
        for field, kind in pl.INDEXED_FIELDS.items():
            if field not in present:
                shard.update(qe.UpdateOperation.create_field_index(field, _SCHEMA[kind]))

    def _open(self, config: qe.EdgeConfig | None) -> qe.EdgeShard:
        exists = (self._path / _CONFIG_FILE).exists()
        try:
            if exists:
                return qe.EdgeShard.load(str(self._path), config)
            if config is None:
                raise StoreError(f"no vector index at {self._path}: run ensure(spec) first")
            self._path.mkdir(parents=True, exist_ok=True)
            return qe.EdgeShard.create(str(self._path), config)
        except StoreError:
            raise
        except Exception as exc:  # the engine raises bare Exception with a message
            raise StoreError(
                f"cannot open vector index at {self._path}: {exc}. If the embedding model "
                "changed, delete that directory and index again"
            ) from exc

    def _get(self) -> qe.EdgeShard | None:
        """The open shard, loading an existing one on first use; None if nothing is stored."""
        with self._lock:
            if self._shard is None and (self._path / _CONFIG_FILE).exists():
                self._shard = self._open(None)
            return self._shard

    async def close(self) -> None:
        await asyncio.to_thread(self._close)

    def _close(self) -> None:
        with self._lock:
            shard, self._shard = self._shard, None
        if shard is not None:
            shard.flush()
            shard.close()

    # -- writes ----------------------------------------------------------------------------

    async def upsert(self, points: Sequence[VectorPoint]) -> None:
        if points:
            await asyncio.to_thread(self._upsert, list(points))

    def _upsert(self, points: list[VectorPoint]) -> None:
        shard = self._get()
        if shard is None:
            raise StoreError(f"vector index at {self._path} does not exist: call ensure(spec)")
        pl.check_points(points, self._spec)
        records = [_point(p) for p in points]
        try:
            shard.update(qe.UpdateOperation.upsert_points(records))
        except Exception as exc:
            raise InvalidInput(f"vector index at {self._path} refused the points: {exc}") from exc

    async def delete(self, ids: Sequence[str]) -> None:
        if ids:
            await asyncio.to_thread(self._delete, [pl.point_id(i) for i in ids])

    def _delete(self, pids: list[PointId]) -> None:
        shard = self._get()
        if shard is not None:
            shard.update(qe.UpdateOperation.delete_points(pids))

    # -- reads -----------------------------------------------------------------------------

    async def search(
        self,
        vector: str,
        query: list[float] | SparseVector,
        *,
        filter: VectorFilter | None = None,
        limit: int = 10,
    ) -> list[ScoredPoint]:
        if limit <= 0 or (isinstance(query, SparseVector) and not query.indices):
            return []
        return await asyncio.to_thread(self._search, vector, query, filter, limit)

    def _search(
        self, vector: str, query: list[float] | SparseVector, flt: VectorFilter | None, limit: int
    ) -> list[ScoredPoint]:
        shard = self._get()
        if shard is None:
            return []
        named: NamedVector = (
            qe.SparseVector(query.indices, query.values)
            if isinstance(query, SparseVector)
            else query
        )
        request = qe.QueryRequest(
            limit=limit,
            query=qe.Query.Nearest(named, using=vector),
            filter=_filter(flt),
            with_payload=True,
            with_vector=False,
        )
        try:
            found = shard.query(request)
        except Exception as exc:
            raise InvalidInput(f"search on vector {vector!r} failed: {exc}") from exc
        return [_scored(p.payload or {}, p.score) for p in found]

    async def hashes(self, ids: Sequence[str]) -> dict[str, str]:
        if not ids:
            return {}
        return await asyncio.to_thread(self._hashes, list(ids))

    def _hashes(self, ids: list[str]) -> dict[str, str]:
        shard = self._get()
        if shard is None:
            return {}
        pids: list[PointId] = [pl.point_id(i) for i in ids]
        records = shard.retrieve(pids, with_payload=[pl.EID, pl.HASH], with_vector=False)
        out: dict[str, str] = {}
        for rec in records:
            data = rec.payload or {}
            eid, digest = data.get(pl.EID), data.get(pl.HASH)
            if isinstance(eid, str) and isinstance(digest, str):
                out[eid] = digest
        return out

    async def count(self, filter: VectorFilter | None = None) -> int:
        return await asyncio.to_thread(self._count, filter)

    def _count(self, flt: VectorFilter | None) -> int:
        shard = self._get()
        if shard is None:
            return 0
        return shard.count(qe.CountRequest(exact=True, filter=_filter(flt)))


def _config(spec: CollectionSpec) -> qe.EdgeConfig:
    return qe.EdgeConfig(
        vectors={
            name: qe.EdgeVectorParams(size=dim, distance=qe.Distance.Cosine)
            for name, dim in spec.dense.items()
        },
        sparse_vectors={
            name: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf) for name in spec.sparse
        },
    )


def _point(p: VectorPoint) -> qe.Point:
    vectors: dict[str, NamedVector] = {name: list(v) for name, v in p.dense.items()}
    for name, sv in p.sparse.items():
        vectors[name] = qe.SparseVector(list(sv.indices), list(sv.values))
    return qe.Point(pl.point_id(p.id), vectors, pl.stored_payload(p.id, p.payload))


def _scored(data: Mapping[str, Any], score: float) -> ScoredPoint:
    payload: dict[str, AttrValue] = dict(data)
    return ScoredPoint(id=str(payload.get(pl.EID, "")), score=float(score), payload=payload)


def _filter(f: VectorFilter | None) -> qe.Filter | None:
    if f is None:
        return None
    must: list[ConditionType] = []
    if f.repo is not None:
        must.append(qe.FieldCondition("repo", match=qe.MatchValue(f.repo)))
    for key, values in (("kind", f.kinds), ("language", f.languages), ("authors", f.authors)):
        if values is not None:
            must.append(qe.FieldCondition(key, match=qe.MatchAny([str(v) for v in values])))
    if f.path_prefix is not None and pl.normalise_prefix(f.path_prefix):
        prefix = pl.normalise_prefix(f.path_prefix)
        must.append(qe.FieldCondition(pl.PATH_PREFIXES, match=qe.MatchValue(prefix)))
    if f.since is not None or f.until is not None:
        since = pl.iso_utc(f.since) if f.since is not None else None
        until = pl.iso_utc(f.until) if f.until is not None else None
        must.append(qe.FieldCondition(pl.TIME, range=qe.RangeDateTime(gte=since, lte=until)))
    return qe.Filter(must=must) if must else None
