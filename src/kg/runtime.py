"""The composition root: builds the stores, embedder, bus and searcher from ``Settings``.

The only place that turns configuration into concrete implementations; everything else takes
Protocols. Used by the CLI (``kg index``/``serve``/``search``) and by tests::

    async with open_runtime(settings) as rt:
        report = await rt.indexer().index(Path("."))
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from embeddings.base import Embedder
from embeddings.index.base import VectorIndex
from embeddings.sparse import SparseEncoder
from extractors.registry import ExtractorRegistry
from kg.embedding_stage import EmbeddingStage, EmbedStatus
from kg.events.base import EventBus
from kg.events.memory import InProcessBus
from kg.events.schema import is_source_event
from kg.events.source import EventSource, SubscriptionSource
from kg.pipeline import Indexer, IndexReport, Progress
from kg.settings import Settings
from kg.stores.base import GraphStore
from kg.stores.factory import open_graph_store

if TYPE_CHECKING:
    from kg.ranking import GraphAwareSearcher
    from kg.service import GraphService

# Backends (Qdrant client, Kafka, networkx for ranking, the embedding model) are imported when
# first used: `kg index --no-embed` starts in a fraction of the time.

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Runtime:
    settings: Settings
    store: GraphStore
    index: VectorIndex | None
    embedder: Embedder | None
    sparse: SparseEncoder
    bus: EventBus
    registry: ExtractorRegistry
    background: EmbeddingStage | None = None

    def embedding_stage(
        self, index: VectorIndex | None = None, *, background: bool = False
    ) -> EmbeddingStage | None:
        """A stage over the runtime's index, or over ``index`` (a wrapper of it, e.g. the
        worker's ``GuardedVectorIndex``); ``background``: see ``EmbeddingStage``."""
        if self.index is None:
            return None
        return EmbeddingStage(
            index or self.index, self.embedder, self.sparse, background=background
        )

    def background_embedding(self) -> EmbeddingStage | None:
        """The runtime's one background stage: vectors catch up after the graph is applied."""
        if self.index is None:
            return None
        if self.background is None:
            self.background = EmbeddingStage(
                self.index, self.embedder, self.sparse, background=True
            )
        return self.background

    async def wait_for_vectors(self, progress: Progress | None = None) -> EmbedStatus | None:
        """Until the background stage has embedded everything queued; reports ``embedding``."""
        if self.background is None:
            return None
        report = progress or (lambda stage, done, total: None)
        return await self.background.wait(lambda done, total: report("embedding", done, total))

    def indexer(
        self, progress: Progress | None = None, *, embed: bool = True, background: bool = False
    ) -> Indexer:
        """``background``: the graph is written first and vectors follow (``wait_for_vectors``)."""
        s = self.settings
        stage = self.background_embedding() if background else self.embedding_stage()
        return Indexer(
            self.store,
            self.registry,
            embedding=stage if embed else None,
            bus=self.bus,
            max_file_bytes=s.max_file_bytes,
            include_generated=s.include_generated,
            history=s.history,
            progress=progress,
        )

    def searcher(self) -> GraphAwareSearcher | None:
        """Hybrid search re-ranked with graph signals (centrality, recency, feedback)."""
        if self.index is None:
            return None
        from embeddings.hybrid import HybridSearcher
        from kg.feedback import FeedbackLog
        from kg.ranking import GraphAwareSearcher

        hybrid = HybridSearcher(self.index, self.embedder, self.sparse)
        return GraphAwareSearcher(
            hybrid, self.store, feedback=FeedbackLog(self.store), bus=self.bus
        )

    def service(self) -> GraphService:
        from kg.service import GraphService

        async def ingest(root: Path, progress: Progress) -> IndexReport:
            # a fresh indexer per job: its progress callback reports to that job only; the
            # graph is queryable once applied, the job ends when the vectors have caught up
            report = await self.indexer(progress=progress, background=True).index(root)
            await self.wait_for_vectors(progress)
            return report

        return GraphService(self.store, self.searcher(), self.bus, ingest=ingest)


def _registry() -> ExtractorRegistry:
    # A broken third-party plugin must not stop indexing; it is named in the log instead.
    registry = ExtractorRegistry.from_entry_points(strict=False)
    for error in registry.errors:
        log.warning("extractor plugin skipped: %s", error)
    return registry


def _open_bus(settings: Settings) -> EventBus:
    """Kafka when ``KG_KAFKA_BOOTSTRAP`` is set, else the in-process bus (the only branch)."""
    if settings.kafka_bootstrap:
        from kg.events.kafka import KafkaBus

        return KafkaBus(
            settings.kafka_bootstrap,
            topic_prefix=settings.kafka_topic_prefix,
            partitions=settings.kafka_partitions,
        )
    return InProcessBus()


def open_source(rt: Runtime, group: str) -> EventSource:
    """Where ``kg worker`` reads source events: a Kafka consumer group (each event handled
    by one worker of ``group``), or the in-process bus (one process, nothing to commit)."""
    from kg.events.kafka import KafkaBus

    if isinstance(rt.bus, KafkaBus):
        return rt.bus.group_source(group)
    return SubscriptionSource(rt.bus, ["*"], accept=is_source_event)


@asynccontextmanager
async def open_runtime(settings: Settings) -> AsyncIterator[Runtime]:
    """Open every backend named by ``settings``; closes them on exit, even after an error."""
    store = open_graph_store(
        settings.graph_url, user=settings.graph_user, password=settings.graph_password
    )
    await store.start()
    bus = _open_bus(settings)
    try:
        await bus.start()
    except BaseException:
        await store.close()
        raise
    index: VectorIndex | None = None
    embedder: Embedder | None = None
    rt: Runtime | None = None
    try:
        if settings.embed:
            from embeddings.factory import open_embedder
            from embeddings.index.factory import open_vector_index

            embedder = open_embedder(
                settings.embedding_model,
                device=settings.embedding_device,
                batch_size=settings.embedding_batch_size,
            )
            index = open_vector_index(
                settings.vector_url, settings.collection, settings.vector_api_key
            )
        rt = Runtime(
            settings=settings,
            store=store,
            index=index,
            embedder=embedder,
            sparse=SparseEncoder(),
            bus=bus,
            registry=_registry(),
        )
        stage = rt.embedding_stage()
        if stage is not None:
            await stage.start()
        yield rt
    finally:
        if rt is not None and rt.background is not None:
            await rt.background.close()
        if index is not None:
            await index.close()
        await bus.close()
        await store.close()
