# strawberry types field(description=...) as returning Any, which strict mypy rejects
# mypy: disable-error-code="untyped-decorator"
"""GraphQL object types for the entities of code and history.

Field names follow the model (``kg.model.Entity``) and its attrs; edge fields resolve through
``api.edges`` (DataLoaders), so a list of 100 functions with their callers, file and definer
costs a handful of store calls, not hundreds.
"""

from __future__ import annotations

import strawberry

from api.context import Info
from api.discussions import Annotation, Comment, Insight, Issue, PullRequest, annotations_of
from api.edges import (
    CallConnection,
    RelationConnection,
    calls,
    entity_page,
    first_neighbor,
    list_page,
    neighbors,
    related,
)
from api.history import (
    Commit,
    HistoryConnection,
    OwnerConnection,
    Person,
    history,
    owners,
)
from api.node import Node, Span, SymbolKind, attr, register, symbol_kinds, to_node
from api.pagination import Connection, PageInfo, decode, encode, page_after, page_info
from kg.model import Direction, Entity, EntityKind, Neighbor, RelationKind, entity_id
from kg.stores.base import EntityQuery

DEFINERS = [RelationKind.DEFINES, RelationKind.CONTAINS]
MAX_NESTING = 8  # classes in functions in classes ... deeper than this is not listed
FIRST = 50


@strawberry.type(description="A count of entities or relations of one kind.")
class KindCount:
    kind: str
    count: int


def kind_counts(stats: dict[str, int]) -> list[KindCount]:
    return [KindCount(kind=k, count=v) for k, v in sorted(stats.items())]


async def _load(info: Info, eid: str) -> Node | None:
    return to_node(await info.context.loaders.nodes.load(eid))


@register(EntityKind.REPOSITORY)
@strawberry.type(description="An indexed repository.")
class Repository(Node):
    @strawberry.field(description="Where it was indexed from (a local path or URL).")
    def root(self) -> str | None:
        return attr(self.entity, "root")

    @strawberry.field(description="Files, ordered by id; `pathPrefix` narrows to a directory.")
    async def files(
        self,
        info: Info,
        first: int = FIRST,
        after: str | None = None,
        path_prefix: str | None = None,
    ) -> Connection[File]:
        q = EntityQuery(repo=self.entity.repo, kinds=[EntityKind.FILE], path_prefix=path_prefix)
        return await entity_page(info, File, q, first, after)

    @strawberry.field(description="Code symbols, ordered by id, optionally by kind and name.")
    async def symbols(
        self,
        info: Info,
        first: int = FIRST,
        after: str | None = None,
        kinds: list[SymbolKind] | None = None,
        name: str | None = None,
        name_prefix: str | None = None,
        path_prefix: str | None = None,
    ) -> Connection[Symbol]:
        q = EntityQuery(
            repo=self.entity.repo,
            kinds=symbol_kinds(kinds),
            name=name,
            name_prefix=name_prefix,
            path_prefix=path_prefix,
        )
        return await entity_page(info, Symbol, q, first, after)

    @strawberry.field(description="Commits, ordered by id (not by time).")
    async def commits(
        self, info: Info, first: int = FIRST, after: str | None = None
    ) -> Connection[Commit]:
        q = EntityQuery(repo=self.entity.repo, kinds=[EntityKind.COMMIT])
        return await entity_page(info, Commit, q, first, after)

    @strawberry.field(description="Issues, ordered by id.")
    async def issues(
        self, info: Info, first: int = FIRST, after: str | None = None
    ) -> Connection[Issue]:
        q = EntityQuery(repo=self.entity.repo, kinds=[EntityKind.ISSUE])
        return await entity_page(info, Issue, q, first, after)

    @strawberry.field(description="Pull requests, ordered by id.")
    async def pull_requests(
        self, info: Info, first: int = FIRST, after: str | None = None
    ) -> Connection[PullRequest]:
        q = EntityQuery(repo=self.entity.repo, kinds=[EntityKind.PULL_REQUEST])
        return await entity_page(info, PullRequest, q, first, after)

    @strawberry.field(description="Stored insights, ordered by id (live ones: `insights`).")
    async def insights(
        self, info: Info, first: int = FIRST, after: str | None = None
    ) -> Connection[Insight]:
        q = EntityQuery(repo=self.entity.repo, kinds=[EntityKind.INSIGHT])
        return await entity_page(info, Insight, q, first, after)

    @strawberry.field(description="Entity and relation counts by kind.")
    async def stats(self, info: Info) -> list[KindCount]:
        return kind_counts(await info.context.service.stats(self.entity.repo))


@strawberry.interface(description="A node with a history: commits, owners, discussions, notes.")
class Tracked(Node):
    @strawberry.field(description="Commits that modified it (or its file), newest first.")
    async def history(
        self, info: Info, first: int = FIRST, after: str | None = None
    ) -> HistoryConnection:
        return await history(info, self.entity, first, after)

    @strawberry.field(description="Authors of those commits, most commits first.")
    async def owners(
        self, info: Info, first: int = FIRST, after: str | None = None
    ) -> OwnerConnection:
        return await owners(info, self.entity, first, after)

    @strawberry.field(description="Issues, pull requests and comments that mention it.")
    async def discussions(
        self, info: Info, first: int = FIRST, after: str | None = None
    ) -> RelationConnection:
        return await related(info, self.entity.id, [RelationKind.MENTIONS], "in", first, after)

    @strawberry.field(description="Notes users attached to it.")
    async def annotations(
        self, info: Info, first: int = FIRST, after: str | None = None
    ) -> Connection[Annotation]:
        return await annotations_of(info, self.entity.id, first, after)


@register(EntityKind.FILE)
@strawberry.type(description="A source file at its current path.")
class File(Tracked):
    @strawberry.field
    def path(self) -> str:
        return self.entity.path or self.entity.key

    @strawberry.field
    def language(self) -> str | None:
        return self.entity.language

    @strawberry.field
    async def repository(self, info: Info) -> Repository | None:
        node = await _load(info, entity_id(EntityKind.REPOSITORY, self.entity.repo, ""))
        return node if isinstance(node, Repository) else None

    @strawberry.field(description="Every symbol written in this file, in source order.")
    async def symbols(
        self,
        info: Info,
        first: int = FIRST,
        after: str | None = None,
        kinds: list[SymbolKind] | None = None,
    ) -> Connection[Symbol]:
        # File CONTAINS Module DEFINES Class DEFINES method ...: the file's symbols are what
        # it reaches over those edges; one batched traversal for all files of the request.
        loader = info.context.loaders.reach(DEFINERS, "out", MAX_NESTING)
        wanted = set(symbol_kinds(kinds))
        found = [h.entity for h in await loader.load(self.entity.id) if h.entity.kind in wanted]
        found.sort(key=lambda e: (e.span.start_line if e.span else 0, e.id))
        nodes = [n for e in found if isinstance(n := to_node(e), Symbol)]
        return list_page(nodes, first, after)

    @strawberry.field(description="Modules this file (its module) imports.")
    async def imports(
        self, info: Info, first: int = FIRST, after: str | None = None
    ) -> RelationConnection:
        return await _imports(info, self.entity.id, "out", first, after)

    @strawberry.field(description="Modules that import this file (its module).")
    async def imported_by(
        self, info: Info, first: int = FIRST, after: str | None = None
    ) -> RelationConnection:
        return await _imports(info, self.entity.id, "in", first, after)

    @strawberry.field(description="Files often changed in the same commits, strongest first.")
    async def co_changed(
        self, info: Info, first: int = FIRST, after: str | None = None
    ) -> CoChangeConnection:
        return await _co_changed(info, self.entity, first, after)


@strawberry.type(description="A file changed together with this one, and how often.")
class CoChangeEdge:
    cursor: str
    node: File
    weight: float = strawberry.field(description="The CO_CHANGES weight (shared commits).")
    confidence: float


@strawberry.type
class CoChangeConnection:
    edges: list[CoChangeEdge]
    page_info: PageInfo
    total_count: int


async def _co_changed(
    info: Info, entity: Entity, first: int, after: str | None
) -> CoChangeConnection:
    # CO_CHANGES is symmetric; an extractor may store it once, so both directions count
    found: dict[str, tuple[Neighbor, File]] = {}
    for direction in ("out", "in"):
        loader = info.context.loaders.edges([RelationKind.CO_CHANGES], direction)
        for n in await loader.load(entity.id):
            node = to_node(n.entity)
            if isinstance(node, File) and node.id not in found:
                found[node.id] = (n, node)

    def weight(n: Neighbor) -> float:
        value = n.relation.attrs.get("weight")
        return float(value) if isinstance(value, int | float) else n.relation.confidence

    pairs = sorted(found.values(), key=lambda p: (-weight(p[0]), p[1].id))
    chunk, more = page_after(pairs, lambda p: p[1].id, first, decode(after, "k"))
    edges = [
        CoChangeEdge(
            cursor=encode("k", node.id),
            node=node,
            weight=weight(n),
            confidence=n.relation.confidence,
        )
        for n, node in chunk
    ]
    info_ = page_info([e.cursor for e in edges], more)
    return CoChangeConnection(edges=edges, page_info=info_, total_count=len(pairs))


async def _imports(
    info: Info, file_id: str, direction: Direction, first: int, after: str | None
) -> RelationConnection:
    # Imports hang off the module a file CONTAINS (Module IMPORTS Module); a file-level
    # IMPORTS edge, if an extractor writes one, counts too.
    modules = await neighbors(info, file_id, [RelationKind.CONTAINS], "out")
    ids = [file_id, *(n.id for _, n in modules if isinstance(n, Module))]
    return await related(info, ids, [RelationKind.IMPORTS], direction, first, after)


@strawberry.interface(description="A named code symbol: module, class, function or variable.")
class Symbol(Tracked):
    @strawberry.field(description="Qualified dotted name, e.g. `pkg.parser.Parser.parse`.")
    def qualname(self) -> str:
        return attr(self.entity, "qualname") or self.entity.key.rpartition("::")[2]

    @strawberry.field
    def path(self) -> str | None:
        return self.entity.path

    @strawberry.field
    def language(self) -> str | None:
        return self.entity.language

    @strawberry.field
    def span(self) -> Span | None:
        s = self.entity.span
        return (
            None
            if s is None
            else Span(
                start_line=s.start_line,
                end_line=s.end_line,
                start_col=s.start_col,
                end_col=s.end_col,
            )
        )

    @strawberry.field
    def docstring(self) -> str | None:
        return attr(self.entity, "docstring")

    @strawberry.field(description="The file this symbol is written in.")
    async def file(self, info: Info) -> File | None:
        if self.entity.path is None:
            return None
        node = await _load(info, entity_id(EntityKind.FILE, self.entity.repo, self.entity.path))
        return node if isinstance(node, File) else None

    @strawberry.field(description="The file, module or class that defines this symbol.")
    async def defined_in(self, info: Info) -> Node | None:
        return await first_neighbor(info, self.entity.id, DEFINERS, "in")

    @strawberry.field(description="Symbols this one defines directly (a class's methods, ...).")
    async def members(
        self, info: Info, first: int = FIRST, after: str | None = None
    ) -> Connection[Symbol]:
        pairs = await neighbors(info, self.entity.id, DEFINERS, "out")
        found = {n.id: n for _, n in pairs if isinstance(n, Symbol)}
        return list_page([found[k] for k in sorted(found)], first, after)

    @strawberry.field(description="Symbols this one references (reads, annotates with ...).")
    async def references(
        self, info: Info, first: int = FIRST, after: str | None = None
    ) -> RelationConnection:
        return await related(info, self.entity.id, [RelationKind.REFERENCES], "out", first, after)

    @strawberry.field(description="Symbols that reference this one.")
    async def referenced_by(
        self, info: Info, first: int = FIRST, after: str | None = None
    ) -> RelationConnection:
        return await related(info, self.entity.id, [RelationKind.REFERENCES], "in", first, after)


@register(EntityKind.MODULE)
@strawberry.type(description="A module (a Python module, a package's __init__, ...).")
class Module(Symbol):
    @strawberry.field(description="Modules this module imports.")
    async def imports(
        self, info: Info, first: int = FIRST, after: str | None = None
    ) -> RelationConnection:
        return await related(info, self.entity.id, [RelationKind.IMPORTS], "out", first, after)

    @strawberry.field(description="Modules that import this module.")
    async def imported_by(
        self, info: Info, first: int = FIRST, after: str | None = None
    ) -> RelationConnection:
        return await related(info, self.entity.id, [RelationKind.IMPORTS], "in", first, after)

    @strawberry.field(description="Symbols this module's top-level code calls.")
    async def callees(
        self, info: Info, depth: int = 1, first: int = FIRST, after: str | None = None
    ) -> CallConnection:
        return await calls(info, self.entity.id, "out", depth, first, after)


@register(EntityKind.CLASS)
@strawberry.type(description="A class.")
class Class(Symbol):
    @strawberry.field(description="Classes this one inherits from.")
    async def bases(
        self, info: Info, first: int = FIRST, after: str | None = None
    ) -> RelationConnection:
        return await related(info, self.entity.id, [RelationKind.INHERITS], "out", first, after)

    @strawberry.field(description="Classes inheriting from this one.")
    async def subclasses(
        self, info: Info, first: int = FIRST, after: str | None = None
    ) -> RelationConnection:
        return await related(info, self.entity.id, [RelationKind.INHERITS], "in", first, after)

    @strawberry.field(description="Who calls (instantiates) this class, up to `depth` hops.")
    async def callers(
        self, info: Info, depth: int = 1, first: int = FIRST, after: str | None = None
    ) -> CallConnection:
        return await calls(info, self.entity.id, "in", depth, first, after)

    @strawberry.field(description="What this class body calls, up to `depth` hops.")
    async def callees(
        self, info: Info, depth: int = 1, first: int = FIRST, after: str | None = None
    ) -> CallConnection:
        return await calls(info, self.entity.id, "out", depth, first, after)


@register(EntityKind.FUNCTION)
@strawberry.type(description="A function or method.")
class Function(Symbol):
    @strawberry.field
    def signature(self) -> str | None:
        return attr(self.entity, "signature")

    @strawberry.field(description="Who calls this function, up to `depth` hops away.")
    async def callers(
        self, info: Info, depth: int = 1, first: int = FIRST, after: str | None = None
    ) -> CallConnection:
        return await calls(info, self.entity.id, "in", depth, first, after)

    @strawberry.field(description="What this function calls, up to `depth` hops away.")
    async def callees(
        self, info: Info, depth: int = 1, first: int = FIRST, after: str | None = None
    ) -> CallConnection:
        return await calls(info, self.entity.id, "out", depth, first, after)


@register(EntityKind.VARIABLE)
@strawberry.type(description="A module- or class-level variable.")
class Variable(Symbol):
    pass


NODE_TYPES: list[type[Node]] = [
    Repository,
    File,
    Module,
    Class,
    Function,
    Variable,
    Commit,
    Person,
    Issue,
    PullRequest,
    Comment,
    Annotation,
    Insight,
]
