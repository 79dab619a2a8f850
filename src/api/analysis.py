# strawberry types field(description=...) as returning Any, which strict mypy rejects
# mypy: disable-error-code="untyped-decorator"
"""Graph analysis queries: ``impact`` (who depends on this), ``path`` and ``context`` packs."""

from __future__ import annotations

from enum import Enum

import strawberry

from api.context import Info
from api.node import Node, to_node
from api.pagination import PageInfo, decode, encode, page_after, page_info
from kg.model import RelationKind
from kg.service import ContextPack as Pack
from kg.service import GraphPath as Walk


@strawberry.type(description="A transitive dependent and how it depends on the entity.")
class ImpactEdge:
    cursor: str
    node: Node
    depth: int
    via: str = strawberry.field(description="Kind of the last relation on the path (CALLS ...).")
    confidence: float = strawberry.field(description="Product of edge confidences on the path.")
    path: list[strawberry.ID] = strawberry.field(
        description="Ids from the dependent part (the entity or one of its members) to the node."
    )


@strawberry.type
class ImpactConnection:
    edges: list[ImpactEdge]
    page_info: PageInfo
    total_count: int


async def impact(
    info: Info, of: str, depth: int, first: int, after: str | None
) -> ImpactConnection:
    hops = await info.context.service.impact(of, depth)
    pairs = [(h, n) for h in hops if (n := to_node(h.entity)) is not None]
    chunk, more = page_after(pairs, lambda p: p[1].id, first, decode(after, "k"))
    edges = [
        ImpactEdge(
            cursor=encode("k", n.id),
            node=n,
            depth=h.depth,
            via=h.relation.kind.value,
            confidence=h.confidence,
            path=[strawberry.ID(i) for i in h.path],
        )
        for h, n in chunk
    ]
    info_ = page_info([e.cursor for e in edges], more)
    return ImpactConnection(edges=edges, page_info=info_, total_count=len(pairs))


@strawberry.enum(description="Relation kinds a path may follow.")
class PathRelation(Enum):
    CALLS = "CALLS"
    IMPORTS = "IMPORTS"
    INHERITS = "INHERITS"
    REFERENCES = "REFERENCES"
    DEFINES = "DEFINES"
    CONTAINS = "CONTAINS"
    MODIFIES = "MODIFIES"
    AUTHORED = "AUTHORED"
    MENTIONS = "MENTIONS"
    CLOSES = "CLOSES"
    CO_CHANGES = "CO_CHANGES"


@strawberry.type(description="One edge of a path, in the direction it was walked.")
class PathStep:
    source: strawberry.ID = strawberry.field(name="from")
    target: strawberry.ID = strawberry.field(name="to")
    kind: str
    forward: bool = strawberry.field(description="False when walked against its direction.")
    confidence: float
    provenance: str


@strawberry.type(description="A shortest path between two nodes.")
class GraphPath:
    length: int
    confidence: float = strawberry.field(description="Product of edge confidences.")
    nodes: list[Node]
    steps: list[PathStep]


def to_path(walk: Walk) -> GraphPath:
    nodes = [n for e in walk.nodes if (n := to_node(e)) is not None]
    steps = [
        PathStep(
            source=strawberry.ID(s.source),
            target=strawberry.ID(s.target),
            kind=s.relation.kind.value,
            forward=s.relation.src == s.source,
            confidence=s.relation.confidence,
            provenance=s.relation.provenance,
        )
        for s in walk.steps
    ]
    return GraphPath(length=len(steps), confidence=walk.confidence, nodes=nodes, steps=steps)


async def find_path(
    info: Info,
    source: str,
    target: str,
    max_depth: int,
    kinds: list[PathRelation] | None,
    directed: bool,
) -> GraphPath | None:
    walk = await info.context.service.path(
        source,
        target,
        max_depth,
        [RelationKind(k.value) for k in kinds] if kinds else None,
        directed=directed,
    )
    return None if walk is None else to_path(walk)


@strawberry.enum(description="What a context item is.")
class ContextItemKind(Enum):
    CODE = "code"
    SIGNATURE = "signature"
    DOCSTRING = "docstring"
    COMMIT = "commit"
    DISCUSSION = "discussion"
    ANNOTATION = "annotation"


@strawberry.type(description="One piece of a context pack: text, its cost and why it is there.")
class ContextItem:
    kind: ContextItemKind
    node: Node | None
    text: str
    tokens: int = strawberry.field(description="Estimated as ceil(characters / 4).")
    score: float = strawberry.field(description="Relevance used for ranking (0-1).")
    reason: str


@strawberry.type(description="Code and facts about a node, ranked and cut to a token budget.")
class ContextPack:
    node: Node | None
    budget_tokens: int
    used_tokens: int
    omitted: int = strawberry.field(description="Candidates left out because they did not fit.")
    items: list[ContextItem]


def to_pack(pack: Pack) -> ContextPack:
    items = [
        ContextItem(
            kind=ContextItemKind(i.kind),
            node=to_node(i.entity),
            text=i.text,
            tokens=i.tokens,
            score=i.score,
            reason=i.reason,
        )
        for i in pack.items
    ]
    return ContextPack(
        node=to_node(pack.target),
        budget_tokens=pack.budget,
        used_tokens=pack.used,
        omitted=pack.omitted,
        items=items,
    )
