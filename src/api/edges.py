"""Edge fields: related nodes, callers/callees with depth, and keyset pages from the store.

Everything here loads through the request's DataLoaders (``api.context``) or one ``find`` per
connection, so the number of store calls does not grow with the number of parent nodes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TypeVar

import strawberry

from api.context import Info
from api.node import Node, to_node
from api.pagination import (
    Connection,
    Edge,
    PageInfo,
    check_first,
    decode,
    encode,
    page_after,
    page_info,
)
from kg.model import Direction, Neighbor, RelationKind
from kg.service import Hop
from kg.stores.base import EntityQuery

N = TypeVar("N", bound=Node)


@strawberry.type(description="An edge to a related node, with how sure we are and how we know.")
class RelationEdge:
    cursor: str
    node: Node
    kind: str
    confidence: float
    provenance: str = strawberry.field(description="`<extractor>:<method>`, e.g. code:name-match")
    weight: float | None = strawberry.field(
        default=None, description="The relation's weight when it has one (CO_CHANGES: how often)."
    )


@strawberry.type
class RelationConnection:
    edges: list[RelationEdge]
    page_info: PageInfo
    total_count: int


@strawberry.type(description="A caller or callee `depth` CALLS hops away.")
class CallEdge:
    cursor: str
    node: Node
    depth: int
    confidence: float = strawberry.field(description="Product of edge confidences on the path.")
    provenance: str = strawberry.field(description="Provenance of the last hop of the path.")
    path: list[strawberry.ID] = strawberry.field(description="Ids from this symbol to the node.")


@strawberry.type
class CallConnection:
    edges: list[CallEdge]
    page_info: PageInfo
    total_count: int


async def neighbors(
    info: Info, eid: str | Sequence[str], kinds: list[RelationKind], direction: Direction
) -> list[tuple[Neighbor, Node]]:
    """Exposed neighbors of one entity (or of several, merged), ordered by (kind, id)."""
    loader = info.context.loaders.edges(kinds, direction)
    ids = [eid] if isinstance(eid, str) else list(eid)
    found = [n for per in await loader.load_many(ids) for n in per]
    unique = {(n.relation.kind, n.entity.id): n for n in found}
    pairs = [(n, node) for n in unique.values() if (node := to_node(n.entity)) is not None]
    pairs.sort(key=lambda p: (p[0].relation.kind.value, p[1].id))
    return pairs


async def first_neighbor(
    info: Info, eid: str, kinds: list[RelationKind], direction: Direction
) -> Node | None:
    pairs = await neighbors(info, eid, kinds, direction)
    return pairs[0][1] if pairs else None


async def related(
    info: Info,
    eid: str | Sequence[str],
    kinds: list[RelationKind],
    direction: Direction,
    first: int,
    after: str | None,
) -> RelationConnection:
    pairs = await neighbors(info, eid, kinds, direction)

    def key(p: tuple[Neighbor, Node]) -> str:
        return f"{p[0].relation.kind.value}/{p[1].id}"

    chunk, more = page_after(pairs, key, first, decode(after, "k"))
    edges = [
        RelationEdge(
            cursor=encode("k", key((n, node))),
            node=node,
            kind=n.relation.kind.value,
            confidence=n.relation.confidence,
            provenance=n.relation.provenance,
            weight=_weight(n),
        )
        for n, node in chunk
    ]
    info_ = page_info([e.cursor for e in edges], more)
    return RelationConnection(edges=edges, page_info=info_, total_count=len(pairs))


def _weight(n: Neighbor) -> float | None:
    value = n.relation.attrs.get("weight")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


async def calls(
    info: Info, eid: str, direction: Direction, depth: int, first: int, after: str | None
) -> CallConnection:
    loader = info.context.loaders.reach([RelationKind.CALLS], direction, depth)
    hops: list[Hop] = await loader.load(eid)
    pairs = [(h, node) for h in hops if (node := to_node(h.entity)) is not None]
    chunk, more = page_after(pairs, lambda p: p[1].id, first, decode(after, "k"))
    edges = [
        CallEdge(
            cursor=encode("k", node.id),
            node=node,
            depth=h.depth,
            confidence=h.confidence,
            provenance=h.relation.provenance,
            path=[strawberry.ID(i) for i in h.path],
        )
        for h, node in chunk
    ]
    info_ = page_info([e.cursor for e in edges], more)
    return CallConnection(edges=edges, page_info=info_, total_count=len(pairs))


async def entity_page(
    info: Info, cls: type[N], query: EntityQuery, first: int, after: str | None
) -> Connection[N]:
    """A keyset page straight from the store (``find`` ordered by id) plus a lazy count."""
    service = info.context.service
    check_first(first)
    rows = await service.find(replace(query, after=decode(after, "k"), limit=first + 1))
    nodes = [n for e in rows[:first] if isinstance(n := to_node(e), cls)]
    edges = [Edge(cursor=encode("k", n.id), node=n) for n in nodes]

    async def count() -> int:
        return await service.count(replace(query, after=None))

    info_ = page_info([e.cursor for e in edges], len(rows) > first)
    return Connection(edges=edges, page_info=info_, counter=count)


def list_page(nodes: list[N], first: int, after: str | None) -> Connection[N]:
    """A page of an in-memory list of nodes (already ordered)."""
    chunk, more = page_after(nodes, lambda n: n.id, first, decode(after, "k"))
    edges = [Edge(cursor=encode("k", n.id), node=n) for n in chunk]
    total = len(nodes)

    async def count() -> int:
        return total

    return Connection(
        edges=edges, page_info=page_info([e.cursor for e in edges], more), counter=count
    )
