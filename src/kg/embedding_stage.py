"""The embedding stage of the pipeline: embed only what changed, keep vectors in step.

Documents whose content hash matches the hash stored with their vector are never embedded
again; vectors of removed entities are deleted. Dense embedding is CPU-bound and runs in a
worker thread so the event loop keeps serving queries.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from embeddings.base import Embedder
from embeddings.hybrid import collection_spec, document_point
from embeddings.index.base import VectorIndex, VectorPoint
from embeddings.sparse import SparseEncoder
from kg.model import Document
from kg.telemetry import tracer

EMBED_CHUNK = 256


class EmbeddingStage:
    def __init__(
        self,
        index: VectorIndex,
        embedder: Embedder | None,
        sparse: SparseEncoder,
        *,
        dim: int | None = None,
    ) -> None:
        self._index = index
        self._embedder = embedder
        self._sparse = sparse
        self._dim = dim

    async def start(self) -> None:
        dim = self._dim or (self._embedder.dim if self._embedder is not None else 0)
        await self._index.ensure(collection_spec(dim))

    async def process(self, documents: Sequence[Document], removed: Sequence[str]) -> int:
        """Delete vectors of ``removed`` ids, (re-)embed changed documents; returns how many."""
        if removed:
            await self._index.delete(list(removed))
        if not documents:
            return 0
        latest = {d.entity_id: d for d in documents}
        existing = await self._index.hashes(list(latest))
        todo = [d for d in latest.values() if existing.get(d.entity_id) != d.hash]
        for start in range(0, len(todo), EMBED_CHUNK):
            chunk = todo[start : start + EMBED_CHUNK]
            with tracer.start_as_current_span("embeddings.embed", attributes={"n": len(chunk)}):
                points = await asyncio.to_thread(self._points, chunk)
            await self._index.upsert(points)
        return len(todo)

    def _points(self, docs: Sequence[Document]) -> list[VectorPoint]:
        dense: list[list[float] | None] = [None] * len(docs)
        if self._embedder is not None:
            vectors = self._embedder.embed([d.text for d in docs], role="document")
            dense = list(vectors)
        return [
            document_point(d, vec, self._sparse.encode_document(d.text))
            for d, vec in zip(docs, dense, strict=True)
        ]
