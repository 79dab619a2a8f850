# strawberry types field(description=...) as returning Any, which strict mypy rejects
# mypy: disable-error-code="untyped-decorator"
"""Discussions, annotations and insights: the non-code nodes of the graph.

Issues, pull requests and comments come from the discussions extractor (attrs ``number``,
``title``, ``state``, ``body``, ``url``, ``author``, ``createdAt``; relations MENTIONS, CLOSES,
COMMENTS_ON, REVIEWS). Annotations are written by the ``annotate`` mutation. Insights come from
the insights engine, as entities (attrs below) or as ``insight`` bus events
(``kg.events.schema.Insight``), which ``insight_entity`` maps to the same shape.
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import Enum

import strawberry

from api.context import Info
from api.edges import RelationConnection, first_neighbor, list_page, neighbors, related
from api.node import Node, attr, attr_int, attr_strs, attr_time, register
from api.pagination import Connection
from kg.events.schema import Insight as InsightPayload
from kg.model import Entity, EntityKind, RelationKind

FIRST = 50
THREAD = [RelationKind.COMMENTS_ON, RelationKind.REVIEWS]


@strawberry.interface(description="An issue, a pull request or a comment.")
class Discussion(Node):
    @strawberry.field
    def number(self) -> int | None:
        return attr_int(self.entity, "number")

    @strawberry.field
    def title(self) -> str | None:
        return attr(self.entity, "title")

    @strawberry.field(description="open, closed, merged ...")
    def state(self) -> str | None:
        return attr(self.entity, "state")

    @strawberry.field
    def body(self) -> str | None:
        return attr(self.entity, "body")

    @strawberry.field
    def url(self) -> str | None:
        return attr(self.entity, "url")

    @strawberry.field(description="The author's login or name, as the source gave it.")
    def author(self) -> str | None:
        return attr(self.entity, "author")

    @strawberry.field
    def created_at(self) -> datetime | None:
        return attr_time(self.entity, "createdAt") or attr_time(self.entity, "created_at")

    @strawberry.field(description="Code, commits and discussions this one mentions.")
    async def mentions(
        self, info: Info, first: int = FIRST, after: str | None = None
    ) -> RelationConnection:
        return await related(info, self.entity.id, [RelationKind.MENTIONS], "out", first, after)

    @strawberry.field(description="Comments and reviews on this one.")
    async def comments(
        self, info: Info, first: int = FIRST, after: str | None = None
    ) -> RelationConnection:
        return await related(info, self.entity.id, THREAD, "in", first, after)


@register(EntityKind.ISSUE)
@strawberry.type(description="An issue.")
class Issue(Discussion):
    @strawberry.field(description="Pull requests that close this issue.")
    async def closed_by(
        self, info: Info, first: int = FIRST, after: str | None = None
    ) -> RelationConnection:
        return await related(info, self.entity.id, [RelationKind.CLOSES], "in", first, after)


@register(EntityKind.PULL_REQUEST)
@strawberry.type(description="A pull (merge) request.")
class PullRequest(Discussion):
    @strawberry.field(description="Issues this pull request closes.")
    async def closes(
        self, info: Info, first: int = FIRST, after: str | None = None
    ) -> RelationConnection:
        return await related(info, self.entity.id, [RelationKind.CLOSES], "out", first, after)


@register(EntityKind.COMMENT)
@strawberry.type(description="A comment or review on an issue or pull request.")
class Comment(Discussion):
    @strawberry.field(description="The issue or pull request this comments on or reviews.")
    async def parent(self, info: Info) -> Node | None:
        return await first_neighbor(info, self.entity.id, THREAD, "out")


@register(EntityKind.ANNOTATION)
@strawberry.type(description="A note a user attached to a node (the `annotate` mutation).")
class Annotation(Node):
    @strawberry.field
    def text(self) -> str:
        return attr(self.entity, "text") or ""

    @strawberry.field
    def created_at(self) -> datetime | None:
        return attr_time(self.entity, "created_at")

    @strawberry.field(description="The annotated node.")
    async def target(self, info: Info) -> Node | None:
        return await first_neighbor(info, self.entity.id, [RelationKind.ANNOTATES], "out")


async def annotations_of(
    info: Info, eid: str, first: int, after: str | None
) -> Connection[Annotation]:
    pairs = await neighbors(info, eid, [RelationKind.ANNOTATES], "in")
    found = [n for _, n in pairs if isinstance(n, Annotation)]
    return list_page(found, first, after)


@strawberry.enum(description="How much an insight matters.")
class Severity(Enum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@strawberry.type(description="A named number behind an insight (e.g. churn=12).")
class Measure:
    name: str
    value: float


@strawberry.type(description="What an insight is based on.")
class Evidence:
    entity_ids: list[strawberry.ID]
    numbers: list[Measure]

    @strawberry.field(description="The entities behind `entityIds` that still exist.")
    async def entities(self, info: Info) -> list[Node]:
        from api.node import to_node

        found = await info.context.loaders.nodes.load_many([str(i) for i in self.entity_ids])
        return [n for e in found if (n := to_node(e)) is not None]


@register(EntityKind.INSIGHT)
@strawberry.type(description="Something a developer should know about a change, and why.")
class Insight(Node):
    @strawberry.field(description="The rule that produced it, e.g. `hotspot`.")
    def rule(self) -> str:
        return attr(self.entity, "rule") or ""

    @strawberry.field
    def severity(self) -> Severity:
        value = attr(self.entity, "severity")
        return Severity(value) if value in {s.value for s in Severity} else Severity.INFO

    @strawberry.field
    def title(self) -> str:
        return attr(self.entity, "title") or self.entity.name

    @strawberry.field
    def explanation(self) -> str:
        return attr(self.entity, "explanation") or ""

    @strawberry.field
    def evidence(self) -> Evidence:
        raw = attr(self.entity, "numbers")
        numbers: dict[str, float] = {}
        if raw:
            try:
                loaded = json.loads(raw)
                numbers = {str(k): float(v) for k, v in loaded.items()}
            except (ValueError, TypeError, AttributeError):
                numbers = {}
        ids = attr_strs(self.entity, "entity_ids")
        return Evidence(
            entity_ids=[strawberry.ID(i) for i in ids],
            numbers=[Measure(name=k, value=v) for k, v in sorted(numbers.items())],
        )

    @strawberry.field(description="Files the insight is about.")
    def paths(self) -> list[str]:
        return attr_strs(self.entity, "paths")

    @strawberry.field
    def time(self) -> datetime | None:
        return attr_time(self.entity, "time")


def insight_entity(payload: InsightPayload) -> Entity:
    """The entity shape of an ``insight`` event, so one GraphQL type serves both: the attrs
    are those ``kg.insights.engine`` stores (``entity_ids``, ``numbers`` as JSON, ...)."""
    return Entity(
        id=payload.id,
        kind=EntityKind.INSIGHT,
        repo=payload.repo,
        key=payload.id,
        name=payload.title,
        attrs={
            "rule": payload.rule,
            "severity": payload.severity,
            "title": payload.title,
            "explanation": payload.explanation,
            "entity_ids": list(payload.evidence.entity_ids),
            "numbers": json.dumps(payload.evidence.numbers, sort_keys=True),
            "paths": list(payload.paths),
            "time": payload.time.isoformat(),
        },
    )


def insight_node(payload: InsightPayload) -> Insight:
    return Insight(id=strawberry.ID(payload.id), entity=insight_entity(payload))
