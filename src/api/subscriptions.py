# strawberry types field(description=...) as returning Any, which strict mypy rejects
# mypy: disable-error-code="untyped-decorator"
"""Subscriptions fed from the event bus: ``graphChanged`` streams graph deltas as they land."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator

import strawberry
from pydantic import ValidationError

from api.context import Info
from kg.model import GraphDelta

log = logging.getLogger(__name__)


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
