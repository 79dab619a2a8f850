# strawberry types field(description=...) as returning Any, which strict mypy rejects
# mypy: disable-error-code="untyped-decorator"
"""History types and edges: commits, people, what modified an entity, who owns it.

``history`` is the commits with a MODIFIES edge to the entity or to its file, newest first;
``owners`` ranks the authors of those commits. Both load through the request's DataLoaders
(one ``neighbors`` call per edge kind and tick), so 100 symbols' owners cost two store calls.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import strawberry

from api.context import Info
from api.edges import RelationConnection, first_neighbor, list_page, neighbors, related
from api.node import Node, attr, attr_time, register, to_node
from api.pagination import Connection, PageInfo, decode, encode, page_after, page_info
from kg.model import Entity, EntityKind, Neighbor, RelationKind, entity_id

FIRST = 50


@register(EntityKind.COMMIT)
@strawberry.type(description="A git commit.")
class Commit(Node):
    @strawberry.field
    def sha(self) -> str:
        return attr(self.entity, "sha") or self.entity.key

    @strawberry.field(description="First line of the message.")
    def summary(self) -> str | None:
        return attr(self.entity, "summary")

    @strawberry.field
    def message(self) -> str | None:
        return attr(self.entity, "message")

    @strawberry.field
    def authored_at(self) -> datetime | None:
        return attr_time(self.entity, "author_time")

    @strawberry.field(description="Commit time (when it entered history).")
    def time(self) -> datetime | None:
        return attr_time(self.entity, "committer_time") or self.entity.valid.from_time

    @strawberry.field
    async def author(self, info: Info) -> Person | None:
        node = await first_neighbor(info, self.entity.id, [RelationKind.AUTHORED], "in")
        return node if isinstance(node, Person) else None

    @strawberry.field
    async def parents(self, info: Info) -> list[Commit]:
        pairs = await neighbors(info, self.entity.id, [RelationKind.PARENT_OF], "in")
        return [n for _, n in pairs if isinstance(n, Commit)]

    @strawberry.field(description="Files this commit changed (edge attrs are on the relation).")
    async def files(
        self, info: Info, first: int = FIRST, after: str | None = None
    ) -> RelationConnection:
        return await related(info, self.entity.id, [RelationKind.MODIFIES], "out", first, after)


@register(EntityKind.PERSON)
@strawberry.type(description="A commit author.")
class Person(Node):
    @strawberry.field
    def email(self) -> str | None:
        return attr(self.entity, "email")

    @strawberry.field
    async def commits(
        self, info: Info, first: int = FIRST, after: str | None = None
    ) -> Connection[Commit]:
        pairs = await neighbors(info, self.entity.id, [RelationKind.AUTHORED], "out")
        return list_page([n for _, n in pairs if isinstance(n, Commit)], first, after)


@strawberry.type(description="A commit that modified the entity (or the file it is in).")
class HistoryEdge:
    cursor: str
    node: Commit
    via: str = strawberry.field(description="`entity` (a symbol-level change) or `file`.")
    change: str | None = strawberry.field(description="added, modified, deleted, renamed ...")
    lines_added: int | None
    lines_removed: int | None


@strawberry.type
class HistoryConnection:
    edges: list[HistoryEdge]
    page_info: PageInfo
    total_count: int


@strawberry.type(description="An author of commits that modified the entity, with their share.")
class OwnerEdge:
    cursor: str
    node: Person
    commits: int
    lines_changed: int
    share: float = strawberry.field(description="This author's fraction of the commits.")
    last_commit_at: datetime | None


@strawberry.type
class OwnerConnection:
    edges: list[OwnerEdge]
    page_info: PageInfo
    total_count: int


@dataclass(frozen=True, slots=True)
class Modification:
    commit: Commit
    relation: Neighbor
    via: str

    @property
    def lines(self) -> int:
        attrs = self.relation.relation.attrs
        return sum(v for k in ("added", "removed") if isinstance(v := attrs.get(k), int))


def _time_key(c: Commit) -> str:
    value = attr(c.entity, "committer_time") or attr(c.entity, "author_time") or ""
    return value


async def modifications(info: Info, entity: Entity) -> list[Modification]:
    """Commits modifying the entity or its file, newest first (symbol-level edges win)."""
    ids = [entity.id]
    if entity.kind is not EntityKind.FILE and entity.path:
        ids.append(entity_id(EntityKind.FILE, entity.repo, entity.path))
    loader = info.context.loaders.edges([RelationKind.MODIFIES], "in")
    found: dict[str, Modification] = {}
    for eid, edges in zip(ids, await loader.load_many(ids), strict=True):
        via = "entity" if eid == entity.id else "file"
        for n in edges:
            node = to_node(n.entity)
            if isinstance(node, Commit) and node.id not in found:
                found[node.id] = Modification(node, n, via)
    mods = sorted(found.values(), key=lambda m: m.commit.id)
    mods.sort(key=lambda m: _time_key(m.commit), reverse=True)
    return mods


async def history(info: Info, entity: Entity, first: int, after: str | None) -> HistoryConnection:
    mods = await modifications(info, entity)
    chunk, more = page_after(mods, lambda m: m.commit.id, first, decode(after, "k"))
    edges = [
        HistoryEdge(
            cursor=encode("k", m.commit.id),
            node=m.commit,
            via=m.via,
            change=_str(m.relation.relation.attrs.get("change")),
            lines_added=_int(m.relation.relation.attrs.get("added")),
            lines_removed=_int(m.relation.relation.attrs.get("removed")),
        )
        for m in chunk
    ]
    info_ = page_info([e.cursor for e in edges], more)
    return HistoryConnection(edges=edges, page_info=info_, total_count=len(mods))


async def owners(info: Info, entity: Entity, first: int, after: str | None) -> OwnerConnection:
    """Authors ranked by commits touching the entity, then by lines changed."""
    mods = await modifications(info, entity)
    loader = info.context.loaders.edges([RelationKind.AUTHORED], "in")
    authors = await loader.load_many([m.commit.id for m in mods])
    commits: Counter[str] = Counter()
    lines: Counter[str] = Counter()
    people: dict[str, Person] = {}
    last: dict[str, datetime | None] = {}
    for m, found in zip(mods, authors, strict=True):
        for n in found:
            person = to_node(n.entity)
            if not isinstance(person, Person):
                continue
            people[person.id] = person
            commits[person.id] += 1
            lines[person.id] += m.lines
            last.setdefault(person.id, m.commit.time())  # mods are newest first
    ranked = sorted(people, key=lambda p: (-commits[p], -lines[p], p))
    chunk, more = page_after(ranked, lambda p: p, first, decode(after, "k"))
    total = max(1, len(mods))
    edges = [
        OwnerEdge(
            cursor=encode("k", p),
            node=people[p],
            commits=commits[p],
            lines_changed=lines[p],
            share=round(commits[p] / total, 4),
            last_commit_at=last[p],
        )
        for p in chunk
    ]
    return OwnerConnection(
        edges=edges, page_info=page_info([e.cursor for e in edges], more), total_count=len(ranked)
    )


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
