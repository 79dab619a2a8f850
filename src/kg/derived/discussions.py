"""Ingest discussions: apply a discussions batch, embed its text, link it to code and history.

The extractor (``extractors.discussions``) is pure; linking needs the store, so it happens
here, after the batch is stored: the new issues, pull requests and comments are linked (text
mentions, review comment locations), and so are the commits whose messages mention one of the
ingested numbers (they may have been indexed before the issue existed)::

    report = await ingest_discussions(store, batch, embedding=rt.embedding_stage())
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kg.derived.links import link_batch
from kg.embedding_stage import EmbeddingStage
from kg.model import Batch, Entity, EntityKind
from kg.stores.base import EntityQuery, GraphStore

DISCUSSION_KINDS = (EntityKind.ISSUE, EntityKind.PULL_REQUEST, EntityKind.COMMENT)
_HASH_NUMBER = re.compile(r"#(\d{1,7})\b")


@dataclass(slots=True)
class IngestReport:
    entities: int = 0
    relations: int = 0
    links: int = 0
    commits_relinked: int = 0
    embedded: int = 0


async def _commits_mentioning(store: GraphStore, repo: str, numbers: set[int]) -> list[Entity]:
    """Commits whose message names one of ``numbers`` (a scan of the commits, paged)."""
    out: list[Entity] = []
    after: str | None = None
    while True:
        page = await store.find(
            EntityQuery(repo=repo, kinds=[EntityKind.COMMIT], after=after, limit=1000)
        )
        for c in page:
            text = str(c.attrs.get("message", ""))
            if any(int(n) in numbers for n in _HASH_NUMBER.findall(text)):
                out.append(c)
        if len(page) < 1000:
            return out
        after = page[-1].id


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
    numbers = {
        n
        for e in stored
        if e.kind is not EntityKind.COMMENT
        if isinstance(n := e.attrs.get("number"), int)
    }
    commits = await _commits_mentioning(store, repo, numbers) if numbers else []
    links.extend(await link_batch(store, repo, commits))
    report.commits_relinked = len(commits)
    report.links = (await store.apply(links)).relations_added
    return report
