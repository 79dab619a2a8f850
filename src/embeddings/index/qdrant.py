"""VectorIndex on a Qdrant server through ``qdrant_client.AsyncQdrantClient``.

``location=":memory:"`` or ``location="/some/dir"`` runs qdrant-client's local mode instead of
talking to a server (used by tests and ``memory://`` URLs); the payload conventions are those of
``embeddings.index.payload``, shared with the embedded index. Example::

    index = QdrantVectorIndex("http://localhost:6333", "codekg")
    await index.ensure(CollectionSpec(dense={"code": 384}))
"""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import httpx
from qdrant_client import AsyncQdrantClient
from qdrant_client import models as qm
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from embeddings.index import payload as pl
from embeddings.index.base import (
    CollectionSpec,
    ScoredPoint,
    SparseVector,
    VectorFilter,
    VectorPoint,
)
from kg.errors import InvalidInput, StoreError, StoreUnavailable
from kg.model import AttrValue

_SCHEMA: Mapping[pl.IndexType, qm.PayloadSchemaType] = {
    "keyword": qm.PayloadSchemaType.KEYWORD,
    "datetime": qm.PayloadSchemaType.DATETIME,
}


class QdrantVectorIndex:
    """A VectorIndex in one Qdrant collection (server, or local mode with ``location``)."""

    def __init__(
        self,
        url: str,
        collection: str,
        api_key: str | None = None,
        *,
        location: str | None = None,
    ) -> None:
        self._url = url
        self._collection = collection
        self._api_key = api_key or None
        self._location = location
        self._client: AsyncQdrantClient | None = None
        self._spec: CollectionSpec | None = None
        self._exists = False
        self._open_lock = asyncio.Lock()

    @property
    def where(self) -> str:
        return f"{self._location or self._url} collection {self._collection!r}"

    async def _get(self) -> AsyncQdrantClient:
        # Built on first use: local mode reads its directory, and constructors do no I/O here.
        async with self._open_lock:
            if self._client is None:
                self._client = await asyncio.to_thread(self._make_client)
            return self._client

    def _make_client(self) -> AsyncQdrantClient:
        if self._location == ":memory:":
            return AsyncQdrantClient(location=":memory:")
        if self._location is not None:
            return AsyncQdrantClient(path=self._location)
        return AsyncQdrantClient(url=self._url, api_key=self._api_key, check_compatibility=False)

    @contextlib.contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except (ResponseHandlingException, httpx.TransportError, ConnectionError) as exc:
            raise StoreUnavailable(
                f"Qdrant at {self._url} is not reachable during {what}: {exc}. "
                "Start it or point KG_VECTOR_URL elsewhere (e.g. edge:///.kg/vectors)"
            ) from exc
        except UnexpectedResponse as exc:
            raise StoreError(f"Qdrant {self.where} refused {what}: {exc}") from exc
        except ValueError as exc:  # local mode reports bad input this way
            raise InvalidInput(f"Qdrant {self.where} refused {what}: {exc}") from exc

    async def _has_collection(self, client: AsyncQdrantClient) -> bool:
        if not self._exists:
            with self._errors("a collection lookup"):
                self._exists = await client.collection_exists(self._collection)
        return self._exists

    async def ensure(self, spec: CollectionSpec) -> None:
        client = await self._get()
        with self._errors("ensure"):
            if await client.collection_exists(self._collection):
                await self._check_compatible(client, spec)
            else:
                await client.create_collection(
                    self._collection,
                    vectors_config={
                        name: qm.VectorParams(size=dim, distance=qm.Distance.COSINE)
                        for name, dim in spec.dense.items()
                    },
                    sparse_vectors_config={
                        name: qm.SparseVectorParams(modifier=qm.Modifier.IDF)
                        for name in spec.sparse
                    },
                )
            await self._ensure_payload_indexes(client)
        self._spec = spec
        self._exists = True

    async def _check_compatible(self, client: AsyncQdrantClient, spec: CollectionSpec) -> None:
        params = (await client.get_collection(self._collection)).config.params
        vectors = params.vectors if isinstance(params.vectors, dict) else {}
        have_dense = {name: v.size for name, v in vectors.items()}
        have_sparse = set(params.sparse_vectors or {})
        if have_dense != dict(spec.dense) or have_sparse != set(spec.sparse):
            raise StoreError(
                f"Qdrant {self.where} has dense {have_dense} and sparse {sorted(have_sparse)}, "
                f"but {dict(spec.dense)} and {sorted(spec.sparse)} were asked for; use another "
                "collection (KG_COLLECTION) for a different embedding model"
            )

    async def _ensure_payload_indexes(self, client: AsyncQdrantClient) -> None:
        if self._location is not None:
            return  # local mode ignores payload indexes (and warns); filters still work
        info = await client.get_collection(self._collection)
        present = set(info.payload_schema or {})
        for field, kind in pl.INDEXED_FIELDS.items():
            if field not in present:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    await client.create_payload_index(self._collection, field, _SCHEMA[kind])

    async def upsert(self, points: Sequence[VectorPoint]) -> None:
        if not points:
            return
        client = await self._get()
        if not await self._has_collection(client):
            raise StoreError(f"Qdrant {self.where} does not exist: call ensure(spec) first")
        pl.check_points(points, self._spec)
        structs = [_point(p) for p in points]
        with self._errors("upsert"):
            await client.upsert(self._collection, points=structs, wait=True)

    async def delete(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        client = await self._get()
        if not await self._has_collection(client):
            return
        selector = qm.PointIdsList(points=[pl.point_id(i) for i in ids])
        with self._errors("delete"):
            await client.delete(self._collection, points_selector=selector, wait=True)

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
        client = await self._get()
        if not await self._has_collection(client):
            return []
        q: list[float] | qm.SparseVector = (
            qm.SparseVector(indices=list(query.indices), values=list(query.values))
            if isinstance(query, SparseVector)
            else list(query)
        )
        with self._errors(f"a search on vector {vector!r}"):
            result = await client.query_points(
                self._collection,
                query=q,
                using=vector,
                query_filter=_filter(filter),
                limit=limit,
                with_payload=True,
                with_vectors=False,
            )
        return [_scored(p.payload or {}, p.score) for p in result.points]

    async def hashes(self, ids: Sequence[str]) -> dict[str, str]:
        if not ids:
            return {}
        client = await self._get()
        if not await self._has_collection(client):
            return {}
        with self._errors("a hash lookup"):
            records = await client.retrieve(
                self._collection,
                ids=[pl.point_id(i) for i in ids],
                with_payload=[pl.EID, pl.HASH],
                with_vectors=False,
            )
        out: dict[str, str] = {}
        for rec in records:
            data = rec.payload or {}
            eid, digest = data.get(pl.EID), data.get(pl.HASH)
            if isinstance(eid, str) and isinstance(digest, str):
                out[eid] = digest
        return out

    async def count(self, filter: VectorFilter | None = None) -> int:
        client = await self._get()
        if not await self._has_collection(client):
            return 0
        with self._errors("a count"):
            result = await client.count(self._collection, count_filter=_filter(filter), exact=True)
        return result.count

    async def close(self) -> None:
        async with self._open_lock:
            client, self._client = self._client, None
        if client is not None:
            await client.close()


def _point(p: VectorPoint) -> qm.PointStruct:
    vectors: dict[str, Any] = {name: list(v) for name, v in p.dense.items()}
    for name, sv in p.sparse.items():
        vectors[name] = qm.SparseVector(indices=list(sv.indices), values=list(sv.values))
    return qm.PointStruct(
        id=pl.point_id(p.id), vector=vectors, payload=pl.stored_payload(p.id, p.payload)
    )


def _scored(data: Mapping[str, Any], score: float) -> ScoredPoint:
    payload: dict[str, AttrValue] = dict(data)
    return ScoredPoint(id=str(payload.get(pl.EID, "")), score=float(score), payload=payload)


def _filter(f: VectorFilter | None) -> qm.Filter | None:
    if f is None:
        return None
    must: list[qm.Condition] = []
    if f.repo is not None:
        must.append(qm.FieldCondition(key="repo", match=qm.MatchValue(value=f.repo)))
    for key, values in (("kind", f.kinds), ("language", f.languages), ("authors", f.authors)):
        if values is not None:
            must.append(qm.FieldCondition(key=key, match=qm.MatchAny(any=[str(v) for v in values])))
    if f.path_prefix is not None and pl.normalise_prefix(f.path_prefix):
        prefix = pl.normalise_prefix(f.path_prefix)
        must.append(qm.FieldCondition(key=pl.PATH_PREFIXES, match=qm.MatchValue(value=prefix)))
    if f.since is not None or f.until is not None:
        window = qm.DatetimeRange(
            gte=pl.iso_utc(f.since) if f.since is not None else None,
            lte=pl.iso_utc(f.until) if f.until is not None else None,
        )
        must.append(qm.FieldCondition(key=pl.TIME, range=window))
    return qm.Filter(must=must) if must else None
