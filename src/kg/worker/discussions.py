"""``discussion.*`` events: GitHub webhook payloads into issues, pull requests, comments and
reviews in the graph, linked to the code, files, commits and threads their text mentions.

A payload is converted by ``extractors.discussions`` (pure and validated first: a bad payload
raises ``InvalidInput`` naming the field and writes nothing) and stored as one batch. Every
GitHub object owns its facts (scope ``gh:<repo>:<key>``), so an edit, a close or a reopen
replaces what the previous payload said; links are owned per source (``kg.derived.links``), so
linking again replaces them too. A link holds while its thread is open: valid from the text's
creation until the thread closed (open-ended while open). Closing or reopening a thread re-links
the comments already stored on it, so their windows follow the thread. A thread that arrives
after texts referencing it (``Fixes #1`` before ``issues.opened``: on Kafka each event type has
its own topic, and GitHub does not order deliveries either) back-fills their links.

    work = plan_discussion("codekg", DiscussionEvent(event="issues", body=payload))
    deltas = await apply_discussion(store, work, embedding=None)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from extractors.discussions.webhook import payload_batch
from kg.derived.links import arrived_meanwhile, backfill_batch, link_batch
from kg.embedding_stage import EmbeddingStage
from kg.events.schema import DiscussionEvent
from kg.model import Batch, Entity, EntityKind, GraphDelta, RelationKind, Validity
from kg.stores.base import GraphStore

DISCUSSION_KINDS = (EntityKind.ISSUE, EntityKind.PULL_REQUEST, EntityKind.COMMENT)
THREAD_KINDS = (EntityKind.ISSUE, EntityKind.PULL_REQUEST)
# The object a payload is about, in the order a payload may carry them (a comment on a pull
# request carries "issue" with a "pull_request" marker: the thread is the issue object).
THREAD_FIELDS = ("issue", "pull_request", "discussion")
# Events whose action can open or close the thread (its comments are re-linked then).
THREAD_EVENTS = frozenset({"issues", "pull_request", "discussion"})


@dataclass(frozen=True, slots=True)
class DiscussionWork:
    """One validated payload, ready to apply."""

    repo: str
    event: str  # the X-GitHub-Event name
    action: str | None
    batch: Batch
    thread: str | None  # the Issue/PullRequest entity the payload is about
    closed: datetime | None  # when that thread closed; None while it is open
    updated: datetime | None  # the thread's updated_at: orders snapshots of it


def plan_discussion(repo: str, payload: DiscussionEvent) -> DiscussionWork | None:
    """Validate and convert (pure); None for an event codekg does not read (e.g. ``star``)."""
    batch = payload_batch(repo, payload.event, payload.body)
    if batch is None:
        return None
    body = _thread_body(payload.body)
    closed = _closed_at(body) if body is not None else None
    updated = _time(body.get("updated_at")) if body is not None else None
    thread: str | None = None
    for i, e in enumerate(batch.entities):
        if e.kind in THREAD_KINDS and thread is None:
            thread = e.id
            stamp = {"updatedAt": _iso(updated), "closedAt": _iso(closed)}
            batch.entities[i] = replace(e, attrs={**e.attrs, **stamp})
    return DiscussionWork(
        repo=repo,
        event=payload.event,
        action=payload.action or _str(payload.body.get("action")),
        batch=batch,
        thread=thread,
        closed=closed,
        updated=updated,
    )


async def apply_discussion(
    store: GraphStore, work: DiscussionWork, *, embedding: EmbeddingStage | None
) -> list[GraphDelta]:
    """Store the payload's facts, embed their text, (re-)link them; the store's deltas."""
    closed, thread = work.closed, work.thread
    if thread is not None and work.updated is not None:
        [stored] = await store.get([thread])
        newer = _time(stored.attrs.get("updatedAt")) if stored is not None else None
        if stored is not None and newer is not None and newer > work.updated:
            # Webhooks of different types arrive in any order (on Kafka: other topics): an
            # older snapshot of the thread must not overwrite a newer one.
            _drop_entity(work.batch, thread, stored.owner)
            closed, thread = _time(stored.attrs.get("closedAt")), None
    delta = await store.apply(work.batch)
    if embedding is not None and (work.batch.documents or delta.removed):
        await embedding.process(work.batch.documents, delta.removed)
    ids = [e.id for e in work.batch.entities if e.kind in DISCUSSION_KINDS]
    if thread is not None and work.event in THREAD_EVENTS:
        on = await store.neighbors([thread], [RelationKind.COMMENTS_ON], "in")
        ids += [n.entity.id for n in on.get(thread, []) if n.entity.kind in DISCUSSION_KINDS]
    sources = [e for e in await store.get(list(dict.fromkeys(ids))) if e is not None]
    links = await link_batch(store, work.repo, sources)
    windows = {e.id: _window(e, closed) for e in sources}
    links.relations = [replace(r, valid=windows.get(r.src, r.valid)) for r in links.relations]
    deltas = [delta, await store.apply(links)]
    # Threads stored now satisfy the texts that waited for them; a reference this payload could
    # not resolve may have been satisfied meanwhile by another worker (both sides check).
    arrived = [e for e in work.batch.entities if e.kind in THREAD_KINDS]
    arrived += await arrived_meanwhile(store, work.repo, links.state)
    backfill = await backfill_batch(store, work.repo, arrived)
    if not backfill.is_empty():
        deltas.append(await store.apply(backfill))
    return deltas


def _drop_entity(batch: Batch, eid: str, scope: str) -> None:
    batch.entities = [e for e in batch.entities if e.id != eid]
    batch.relations = [r for r in batch.relations if r.owner != scope]
    batch.documents = [d for d in batch.documents if d.entity_id != eid]
    batch.replace_scopes.discard(scope)


def _thread_body(body: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for name in THREAD_FIELDS:
        if isinstance(thread := body.get(name), Mapping):
            return thread
    return None


def _iso(when: datetime | None) -> str:
    return when.isoformat() if when is not None else ""


def _window(source: Entity, closed: datetime | None) -> Validity:
    return Validity(from_time=_time(source.attrs.get("createdAt")), to_time=closed)


def _closed_at(thread: Mapping[str, Any]) -> datetime | None:
    if str(thread.get("state", "open")).lower() != "closed":
        return None
    # a closed thread without a closing time: the payload's own time, else now
    for key in ("closed_at", "updated_at"):
        if (when := _time(thread.get(key))) is not None:
            return when
    return datetime.now(UTC)


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
