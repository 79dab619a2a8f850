"""Ingest discussions: apply a discussions batch, embed its text, link it to code and history.

The extractor (``extractors.discussions``) is pure; linking needs the store, so it happens
here, after the batch is stored: the new issues, pull requests and comments are linked (text
mentions, review comment locations), and so are the stored texts that named one of the ingested
threads before it existed (commits indexed first, comments of another thread): their
``awaits:`` entries say which (``backfill_batch``), so no commit message is scanned::

    report = await ingest_discussions(store, batch, embedding=rt.embedding_stage())
"""

from __future__ import annotations

from dataclasses import dataclass

from kg.derived.links import THREAD_KINDS, arrived_meanwhile, backfill_batch, link_batch
from kg.embedding_stage import EmbeddingStage
from kg.model import Batch, EntityKind, kind_of
from kg.stores.base import GraphStore

DISCUSSION_KINDS = (EntityKind.ISSUE, EntityKind.PULL_REQUEST, EntityKind.COMMENT)


@dataclass(slots=True)
class IngestReport:
    entities: int = 0
    relations: int = 0
    links: int = 0
    commits_relinked: int = 0
    embedded: int = 0


async def ingest_discussions(
    store: GraphStore, batch: Batch, *, embedding: EmbeddingStage | None = None
) -> IngestReport:
    report = IngestReport()
    delta = await store.apply(batch)
    report.entities = len(delta.added) + len(delta.updated)
    report.relations = delta.relations_added
    if embedding is not None:
        report.embedded = await embedding.process(batch.documents, delta.removed)
    repo = batch.repo
    sources = [e for e in batch.entities if e.kind in DISCUSSION_KINDS]
    stored = [e for e in await store.get([e.id for e in sources]) if e is not None]
    links = await link_batch(store, repo, stored)
    report.links = (await store.apply(links)).relations_added
    # Threads stored now satisfy the texts that waited for them; one this batch could not
    # resolve may have been stored meanwhile by a webhook worker (both sides check).
    arrived = [e for e in stored if e.kind in THREAD_KINDS]
    arrived += await arrived_meanwhile(store, repo, links.state)
    backfill = await backfill_batch(store, repo, arrived)
    if not backfill.is_empty():
        report.links += (await store.apply(backfill)).relations_added
    report.commits_relinked = len(
        {r.src for r in backfill.relations if kind_of(r.src) is EntityKind.COMMIT}
    )
    return report
