"""What the pipeline recomputes after new commits: co-change coupling of what they touched and
the links of their messages, and the links of stored texts that named one of them before it was
indexed (``backfill_batch``). Each step returns batches; the pipeline applies them."""

from __future__ import annotations

from collections.abc import Sequence

from kg.derived.cochange import cochange_batches
from kg.derived.links import backfill_batch, link_batch
from kg.model import Batch, EntityKind, entity_id
from kg.stores.base import GraphStore


async def derive_after_commits(store: GraphStore, repo: str, shas: Sequence[str]) -> list[Batch]:
    batches = await cochange_batches(store, repo, shas)
    ids = [entity_id(EntityKind.COMMIT, repo, s) for s in dict.fromkeys(shas)]
    for start in range(0, len(ids), 500):
        commits = [e for e in await store.get(ids[start : start + 500]) if e is not None]
        batches.append(await link_batch(store, repo, commits))
        batches.append(await backfill_batch(store, repo, commits))
    return batches
