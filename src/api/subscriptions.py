# strawberry types field(description=...) as returning Any, which strict mypy rejects
# mypy: disable-error-code="untyped-decorator"
"""Subscriptions fed from the event bus: graph deltas, ingest progress and insights.

Each subscription execution owns one bus subscription with a bounded queue
(``settings.subscriber_queue``): a slow consumer drops its own oldest events and never holds up
the publisher or anyone else. Over WebSockets, identical subscriptions to ``SHARED_FIELDS`` run
once for all their clients (``api.fanout``), each client with its own bounded queue.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Callable
from dataclasses import replace

import strawberry
from pydantic import ValidationError

from api.context import Info
from api.discussions import Insight, Severity, insight_node
from api.mutations import Job
from kg.errors import NotFound
from kg.events.schema import SEVERITY_ORDER, IngestProgress
from kg.events.schema import Insight as InsightPayload
from kg.model import GraphDelta
from kg.service import INGEST_PROGRESS, INSIGHT
from kg.service import Job as JobState

log = logging.getLogger(__name__)

# Root fields whose results depend only on their arguments and the events, and that yield
# nothing when they start: identical subscriptions to them share one execution (api.fanout).
# ingestProgress yields the job's state first, which a client joining a running stream would
# miss, so every client runs its own.
SHARED_FIELDS = frozenset({"graphChanged", "insights"})


@strawberry.type(description="What one write to the graph changed.")
class GraphChange:
    repo: str
    added: list[strawberry.ID]
    updated: list[strawberry.ID]
    removed: list[strawberry.ID]
    relations_added: int
    relations_removed: int
    kinds: list[str] = strawberry.field(description="Entity kinds touched by the change.")
    paths: list[str] = strawberry.field(description="Files touched by the change.")
    commit: str | None

    @strawberry.field
    def added_count(self) -> int:
        return len(self.added)

    @strawberry.field
    def updated_count(self) -> int:
        return len(self.updated)

    @strawberry.field
    def removed_count(self) -> int:
        return len(self.removed)

    @classmethod
    def of(cls, d: GraphDelta) -> GraphChange:
        return cls(
            repo=d.repo,
            added=[strawberry.ID(i) for i in d.added],
            updated=[strawberry.ID(i) for i in d.updated],
            removed=[strawberry.ID(i) for i in d.removed],
            relations_added=d.relations_added,
            relations_removed=d.relations_removed,
            kinds=list(d.kinds),
            paths=list(d.paths),
            commit=d.commit,
        )


def _wanted(delta: GraphDelta, repo: str | None, kinds: list[str] | None) -> bool:
    if repo is not None and delta.repo != repo:
        return False
    return not kinds or bool(set(kinds) & set(delta.kinds))


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Graph changes as they are applied; `repo` and `kinds` narrow the stream."
    )
    async def graph_changed(
        self, info: Info, repo: str | None = None, kinds: list[str] | None = None
    ) -> AsyncGenerator[GraphChange, None]:
        ctx = info.context
        sub = ctx.service.subscribe_changes(queue_size=ctx.settings.subscriber_queue)
        try:
            async for event in sub:
                try:
                    delta = GraphDelta.model_validate(event.payload)
                except ValidationError as exc:
                    # a producer on another version must not end every client's stream
                    log.warning("skipping malformed graph.delta event %s: %s", event.id, exc)
                    continue
                if _wanted(delta, repo, kinds):
                    yield GraphChange.of(delta)
        finally:
            await sub.close()

    @strawberry.subscription(
        description="An ingest job's progress: its state now, then every change until it ends."
    )
    async def ingest_progress(self, info: Info, job: strawberry.ID) -> AsyncGenerator[Job, None]:
        ctx = info.context
        # subscribe before reading the state, so no update falls between the two
        sub = ctx.service.subscribe([INGEST_PROGRESS], queue_size=ctx.settings.subscriber_queue)
        try:
            current = ctx.service.job(str(job))
            yield Job.of(current)
            if current.finished:
                return
            async for event in sub:
                try:
                    p = IngestProgress.model_validate(event.payload)
                except ValidationError as exc:
                    log.warning("skipping malformed ingest.progress event %s: %s", event.id, exc)
                    continue
                if p.job != current.id:
                    continue
                current = _advance(ctx.service.job, current, p)
                yield Job.of(current)
                if current.finished:
                    return
        finally:
            await sub.close()

    @strawberry.subscription(
        description="Insights as the engine finds them; narrowed by repo, severity and path "
        "prefixes (an insight matches when any of its paths starts with any prefix)."
    )
    async def insights(
        self,
        info: Info,
        repo: str | None = None,
        min_severity: Severity = Severity.INFO,
        paths: list[str] | None = None,
    ) -> AsyncGenerator[Insight, None]:
        ctx = info.context
        sub = ctx.service.subscribe([INSIGHT], queue_size=ctx.settings.subscriber_queue)
        floor = SEVERITY_ORDER[min_severity.value]
        try:
            async for event in sub:
                try:
                    found = InsightPayload.model_validate(event.payload)
                except ValidationError as exc:
                    log.warning("skipping malformed insight event %s: %s", event.id, exc)
                    continue
                if repo is not None and found.repo != repo:
                    continue
                if SEVERITY_ORDER[found.severity] < floor:
                    continue
                if paths and not any(p.startswith(tuple(paths)) for p in found.paths):
                    continue
                yield insight_node(found)
        finally:
            await sub.close()


def _advance(lookup: Callable[[str], JobState], last: JobState, p: IngestProgress) -> JobState:
    """The job after a progress event; its source and repo come from the service's record."""
    try:
        known = lookup(last.id)
    except NotFound:
        known = last
    return replace(
        known, state=p.state, stage=p.stage, done=p.done, total=p.total, message=p.message
    )
