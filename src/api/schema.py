# strawberry types field(description=...) as returning Any, which strict mypy rejects
# mypy: disable-error-code="untyped-decorator"
"""The GraphQL schema: queries over the graph, search, and subscriptions.

Built per ``Settings`` because the safety limits (query depth, aliases, complexity, the API
token) come from there; the
SDL does not depend on them, so ``schema.graphql`` is generated from ``build_schema(Settings())``
(``python -m api.schema_export``)::

    schema = build_schema(settings)
    result = await schema.execute("{ repositories { name } }", context_value=ctx)
"""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.extensions import (
    MaxAliasesLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
)

from api.analysis import (
    ContextPack,
    GraphPath,
    ImpactConnection,
    PathRelation,
    find_path,
    impact,
    to_pack,
)
from api.context import Info
from api.entities import NODE_TYPES, KindCount, Repository, kind_counts
from api.errors import MaskInternalErrors, OperationSpan
from api.limits import build_guard
from api.mutations import Job, Mutation
from api.node import Node, to_node
from api.pagination import MAX_PAGE
from api.search import SearchConnection, SearchFilter, SearchMode, run_search
from api.subscriptions import Subscription
from kg.errors import InvalidInput
from kg.model import kind_of
from kg.settings import Settings

PARSE_CACHE = 1024  # parsed documents kept, by query text


def _check_id(eid: str) -> str:
    try:
        kind_of(eid)
    except ValueError:
        raise InvalidInput(
            f"id={eid!r} is not a node id; ids look like `Function:3f2a…` (take them from `id`)"
        ) from None
    return eid


@strawberry.type
class Query:
    @strawberry.field(description="Any node by its global id; null if it does not exist.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return to_node(await info.context.loaders.nodes.load(_check_id(id)))

    @strawberry.field(description="Nodes by id, in the order asked; null where absent.")
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        if len(ids) > MAX_PAGE:
            raise InvalidInput(f"nodes: {len(ids)} ids asked; ask at most {MAX_PAGE} at once")
        found = await info.context.loaders.nodes.load_many([_check_id(i) for i in ids])
        return [to_node(e) for e in found]

    @strawberry.field(description="A repository by name.")
    async def repository(self, info: Info, name: str) -> Repository | None:
        node = to_node(await info.context.service.repository(name))
        return node if isinstance(node, Repository) else None

    @strawberry.field(description="Every indexed repository.")
    async def repositories(self, info: Info) -> list[Repository]:
        found = await info.context.service.repositories()
        return [n for e in found if isinstance(n := to_node(e), Repository)]

    @strawberry.field(
        description="Hybrid (semantic + lexical) search; hits explain their score. `context`: "
        "the node the user is at (e.g. the open file); hits near it rank higher (the "
        "`proximity` signal)."
    )
    async def search(
        self,
        info: Info,
        query: str,
        first: int = 10,
        after: str | None = None,
        mode: SearchMode = SearchMode.HYBRID,
        filter: SearchFilter | None = None,
        context: strawberry.ID | None = None,
    ) -> SearchConnection:
        near = None if context is None else _check_id(context)
        return await run_search(info, query, first, after, mode, filter, near)

    @strawberry.field(
        description="Transitive dependents of a node and of its members (reverse CALLS, "
        "IMPORTS, INHERITS, REFERENCES), nearest first, each with its path."
    )
    async def impact(
        self,
        info: Info,
        of: strawberry.ID,
        depth: int = 3,
        first: int = 50,
        after: str | None = None,
    ) -> ImpactConnection:
        return await impact(info, _check_id(of), depth, first, after)

    @strawberry.field(
        description="A shortest path between two nodes over code relations (or `kinds`); "
        "`directed: false` also walks relations backwards. Null when none within `maxDepth`."
    )
    async def path(
        self,
        info: Info,
        from_: Annotated[strawberry.ID, strawberry.argument(name="from")],
        to: strawberry.ID,
        max_depth: int = 6,
        kinds: list[PathRelation] | None = None,
        directed: bool = True,
    ) -> GraphPath | None:
        return await find_path(info, _check_id(from_), _check_id(to), max_depth, kinds, directed)

    @strawberry.field(
        description="A ranked, token-budgeted pack of what matters about a node: its code, "
        "callers' and callees' signatures, docstrings, recent commits, discussions, notes. "
        "Tokens are estimated as characters / 4."
    )
    async def context(
        self,
        info: Info,
        for_: Annotated[strawberry.ID, strawberry.argument(name="for")],
        budget_tokens: int,
    ) -> ContextPack:
        return to_pack(await info.context.service.context(_check_id(for_), budget_tokens))

    @strawberry.field(description="An ingest job by id (see the `ingest` mutation).")
    async def job(self, info: Info, id: strawberry.ID) -> Job:
        return Job.of(info.context.service.job(str(id)))

    @strawberry.field(description="Entity and relation counts by kind (of one repo, or all).")
    async def stats(self, info: Info, repo: str | None = None) -> list[KindCount]:
        return kind_counts(await info.context.service.stats(repo))


def build_schema(settings: Settings) -> strawberry.Schema:
    depth, aliases = settings.max_query_depth, settings.max_aliases

    def depth_limiter() -> SchemaExtension:
        return QueryDepthLimiter(max_depth=depth)

    def alias_limiter() -> SchemaExtension:
        return MaxAliasesLimiter(max_alias_count=aliases)

    def parser_cache() -> SchemaExtension:
        # clients repeat a few documents; parsing was a tenth of a small query's time
        return ParserCache(maxsize=PARSE_CACHE)

    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=NODE_TYPES,
        # the guard validates with the limiters' rules, so it must come after them
        extensions=[
            OperationSpan,
            parser_cache,
            depth_limiter,
            alias_limiter,
            build_guard(settings),
            MaskInternalErrors,
        ],
    )
