"""The embedding stage of the pipeline: embed only what changed, keep vectors in step.

Documents whose content hash matches the hash stored with their vector are never embedded
again; vectors of removed entities are deleted. Dense embedding is CPU-bound and runs in a
worker thread so the event loop keeps serving queries.

Two modes share that logic:

* synchronous (the default): ``process`` returns once the vectors are in the index;
* ``background=True``: ``process`` writes each changed document's lexical (sparse) point at
  once, marked pending, and queues the document for a background task that computes the dense
  vectors. The graph is queryable, and lexical search finds the new text, while vectors catch
  up. The queue holds at most ``queue_limit`` documents (``process`` waits for room: memory is
  bounded) and keeps one entry per entity (a newer text replaces a queued one). ``wait`` blocks
  until the queue is empty, reporting ``(embedded, total)`` as it goes::

      stage = EmbeddingStage(index, embedder, sparse, background=True)
      await stage.process(documents, removed)      # returns before the model runs
      await stage.wait(lambda done, total: print(done, total))
      await stage.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from embeddings.base import Embedder
from embeddings.hybrid import collection_spec, document_point, pending_point
from embeddings.index.base import VectorIndex, VectorPoint
from embeddings.sparse import SparseEncoder
from kg.errors import ConfigError, KGError
from kg.model import Document
from kg.telemetry import tracer

log = logging.getLogger(__name__)

EMBED_CHUNK = 256
QUEUE_LIMIT = 20_000

EmbedProgress = Callable[[int, int], None]  # (done, total) of the current round


class EmbeddingFailed(KGError):
    """Background embedding could not compute some vectors (they stay lexical-only)."""


@dataclass(frozen=True, slots=True)
class EmbedStatus:
    """The background queue at one moment: ``done`` of ``total`` documents of the current
    round (since the queue was last empty), ``pending`` still queued or being embedded,
    ``embedded`` vectors computed since the stage started, ``failed`` documents dropped."""

    done: int
    total: int
    pending: int
    embedded: int
    failed: int


class EmbeddingStage:
    def __init__(
        self,
        index: VectorIndex,
        embedder: Embedder | None,
        sparse: SparseEncoder,
        *,
        dim: int | None = None,
        background: bool = False,
        queue_limit: int = QUEUE_LIMIT,
    ) -> None:
        if queue_limit < 1:
            raise ConfigError(f"embedding queue_limit must be >= 1 (got {queue_limit})")
        self._index = index
        self._embedder = embedder
        self._sparse = sparse
        self._dim = dim
        # Without a dense model there is nothing slow to defer: sparse points are written inline.
        self._background = background and embedder is not None
        self._limit = queue_limit
        self._pending: dict[str, Document] = {}
        self._inflight: set[str] = set()
        self._removed_inflight: set[str] = set()
        self._changed: asyncio.Condition | None = None
        self._worker: asyncio.Task[None] | None = None
        self._round_done = self._round_total = 0
        self._embedded = self._failed = 0
        self._last_error = ""
        self._closed = False

    @property
    def background(self) -> bool:
        return self._background

    async def start(self) -> None:
        dim = self._dim or (self._embedder.dim if self._embedder is not None else 0)
        await self._index.ensure(collection_spec(dim))

    async def process(self, documents: Sequence[Document], removed: Sequence[str]) -> int:
        """Delete vectors of ``removed`` ids, (re-)embed changed documents.

        Returns how many were embedded; in background mode how many were queued."""
        if removed:
            await self._remove(removed)
        if not documents:
            return 0
        latest = {d.entity_id: d for d in documents}
        existing = await self._index.hashes(list(latest))
        todo = [d for d in latest.values() if existing.get(d.entity_id) != d.hash]
        if self._background:
            return await self._enqueue(todo)
        for start in range(0, len(todo), EMBED_CHUNK):
            await self._embed_chunk(todo[start : start + EMBED_CHUNK])
        return len(todo)

    def status(self) -> EmbedStatus:
        return EmbedStatus(
            done=self._round_done,
            total=self._round_total,
            pending=len(self._pending) + len(self._inflight),
            embedded=self._embedded,
            failed=self._failed,
        )

    async def wait(self, progress: EmbedProgress | None = None) -> EmbedStatus:
        """Until every queued document has its vector; ``progress(done, total)`` after each
        chunk. Raises ``EmbeddingFailed`` if documents were dropped since the last ``wait``."""
        changed = self._condition()
        async with changed:
            while True:
                status = self.status()
                if progress is not None and status.total:
                    progress(status.done, status.total)
                if not status.pending or self._closed:
                    break
                await changed.wait()
        if status.pending:
            raise EmbeddingFailed(
                f"the embedding stage closed with {status.pending} document(s) still queued; "
                "they are found by lexical search only until the next index run embeds them"
            )
        if self._failed:
            failed, self._failed = self._failed, 0
            raise EmbeddingFailed(
                f"{failed} document(s) got no vector: {self._last_error}; they are found by "
                "lexical search only until the next index run re-embeds them"
            )
        return status

    async def close(self) -> None:
        """Stop the background task; queued documents keep their pending lexical points and
        are embedded by the next index run (their stored hash does not match)."""
        self._closed = True
        task, self._worker = self._worker, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._changed is not None:
            async with self._changed:
                self._changed.notify_all()  # a waiter must not outlive the stage

    # -- background --------------------------------------------------------------------------

    def _condition(self) -> asyncio.Condition:
        # Created on first use: a Condition binds to the running loop.
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed

    async def _remove(self, removed: Sequence[str]) -> None:
        for eid in removed:
            if self._pending.pop(eid, None) is not None:
                self._round_total -= 1  # no longer work to do
            if eid in self._inflight:
                self._removed_inflight.add(eid)
        await self._index.delete(list(removed))

    async def _enqueue(self, todo: Sequence[Document]) -> int:
        if not todo:
            return 0
        changed = self._condition()
        # Lexical search finds the new text before its dense vector exists.
        await self._index.upsert(
            [pending_point(d, self._sparse.encode_document(d.text)) for d in todo]
        )
        async with changed:
            if not self._pending and not self._inflight:
                self._round_done = self._round_total = 0
            for doc in todo:
                if doc.entity_id not in self._pending:
                    # Backpressure: the graph may run ahead of the vectors by queue_limit docs.
                    await changed.wait_for(lambda: len(self._pending) < self._limit)
                    self._round_total += 1
                self._pending[doc.entity_id] = doc
                self._removed_inflight.discard(doc.entity_id)
                self._ensure_worker()
            changed.notify_all()
        return len(todo)

    def _ensure_worker(self) -> None:
        if self._closed:
            raise EmbeddingFailed("the embedding stage is closed; open a new runtime to index")
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain(), name="embedding-stage")

    async def _drain(self) -> None:
        changed = self._condition()
        while True:
            async with changed:
                if not self._pending:
                    self._worker = None  # the next enqueue starts a fresh task
                    changed.notify_all()
                    return
                ids = list(self._pending)[:EMBED_CHUNK]
                chunk = [self._pending.pop(eid) for eid in ids]
                self._inflight.update(ids)
                changed.notify_all()  # room in the queue
            try:
                await self._embed_background(chunk)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the server stays up; wait() reports the loss
                log.exception("background embedding dropped %d document(s)", len(chunk))
                self._failed += len(chunk)
                self._last_error = f"{type(exc).__name__}: {exc}"
            async with changed:
                self._inflight.difference_update(ids)
                self._round_done += len(chunk)
                changed.notify_all()

    async def _embed_background(self, chunk: list[Document]) -> None:
        # The queue may hold text that an earlier run already embedded (re-queued while its
        # vector was in flight): the stored hash still decides.
        existing = await self._index.hashes([d.entity_id for d in chunk])
        todo = [d for d in chunk if existing.get(d.entity_id) != d.hash]
        if todo:
            await self._embed_chunk(todo)
        # A delete that arrived while this chunk was embedded must win over its upsert.
        gone = [d.entity_id for d in chunk if d.entity_id in self._removed_inflight]
        if gone:
            self._removed_inflight.difference_update(gone)
            await self._index.delete(gone)

    # -- shared ------------------------------------------------------------------------------

    async def _embed_chunk(self, chunk: Sequence[Document]) -> None:
        with tracer.start_as_current_span("embeddings.embed", attributes={"n": len(chunk)}):
            points = await asyncio.to_thread(self._points, chunk)
        await self._index.upsert(points)
        self._embedded += len(chunk) if self._embedder is not None else 0

    def _points(self, docs: Sequence[Document]) -> list[VectorPoint]:
        dense: list[list[float] | None] = [None] * len(docs)
        if self._embedder is not None:
            vectors = self._embedder.embed([d.text for d in docs], role="document")
            dense = list(vectors)
        return [
            document_point(d, vec, self._sparse.encode_document(d.text))
            for d, vec in zip(docs, dense, strict=True)
        ]
