"""Hybrid search over the graph: hits are the edges of a ``SearchConnection``.

Each hit carries the fused score and its explanation (one ``SignalScore`` per retrieval signal:
rank and raw score in that signal's list, weight, contribution to the fused score).
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from api.context import Info
from api.node import Node, to_node
from api.pagination import PageInfo, check_first, decode_offset, encode, page_info
from embeddings.hybrid import SearchMode as SearchModeName
from embeddings.index.base import VectorFilter


@strawberry.enum(description="Which retrieval signals to use.")
class SearchMode(Enum):
    HYBRID = "hybrid"
    SEMANTIC = "semantic"
    LEXICAL = "lexical"


@strawberry.input(description="Narrows search; every field is optional and all must match.")
class SearchFilter:
    repo: str | None = None
    kinds: list[str] | None = strawberry.field(
        default=None, description='Entity kinds, e.g. ["Function", "Class"].'
    )
    languages: list[str] | None = None
    path_prefix: str | None = None
    authors: list[str] | None = None
    since: datetime | None = None
    until: datetime | None = None

    def to_vector_filter(self) -> VectorFilter:
        return VectorFilter(
            repo=self.repo,
            kinds=self.kinds,
            languages=self.languages,
            path_prefix=self.path_prefix,
            authors=self.authors,
            since=self.since,
            until=self.until,
        )


@strawberry.type(description="One signal's part in a hit's fused score.")
class SignalScore:
    signal: str
    rank: int | None = strawberry.field(description="Rank in this signal's list; null if absent.")
    score: float | None
    weight: float
    contribution: float


@strawberry.type(description="A search hit: the matching node, its score and why.")
class SearchHit:
    cursor: str
    node: Node
    score: float
    explanation: list[SignalScore]
    vector_pending: bool = strawberry.field(
        default=False,
        description="The node's semantic vector is still being computed (background "
        "embedding): until it is, only lexical search finds the node.",
    )


@strawberry.type
class SearchConnection:
    edges: list[SearchHit]
    page_info: PageInfo
    search_id: str = strawberry.field(
        description="Names this search for `feedback(searchId:, nodeId:, useful:)`."
    )


_MODES: dict[SearchMode, SearchModeName] = {
    SearchMode.HYBRID: "hybrid",
    SearchMode.SEMANTIC: "semantic",
    SearchMode.LEXICAL: "lexical",
}


async def run_search(
    info: Info,
    query: str,
    first: int,
    after: str | None,
    mode: SearchMode,
    filter: SearchFilter | None,
    context: str | None = None,
) -> SearchConnection:
    page = await info.context.service.search(
        query,
        mode=_MODES[mode],
        filter=None if filter is None else filter.to_vector_filter(),
        first=check_first(first),
        after=decode_offset(after),
        context=context,
    )
    edges: list[SearchHit] = []
    for r in page.results:
        node = to_node(r.entity)
        if node is None:
            continue
        explanation = [
            SignalScore(
                signal=s.signal,
                rank=s.rank,
                score=s.score,
                weight=s.weight,
                contribution=s.contribution,
            )
            for s in r.hit.signals
        ]
        edges.append(
            SearchHit(
                cursor=encode("o", r.offset),
                node=node,
                score=r.hit.score,
                explanation=explanation,
                vector_pending=r.hit.pending,
            )
        )
    cursors = [encode("o", r.offset) for r in page.results]
    return SearchConnection(
        edges=edges, page_info=page_info(cursors, page.has_next), search_id=page.search_id
    )
