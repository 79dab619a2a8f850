"""The data model of codekg: entities, relations, batches and deltas.

Everything that crosses a seam (extractor -> store, store -> API, bus -> subscriber) is one of
these types. This module imports nothing of ours, so every layer can depend on it.

Ids are deterministic: ``entity_id(kind, repo, key)`` is the same for the same natural key on
every run, which makes re-running any extractor an idempotent upsert::

    >>> f = Entity.make(EntityKind.FUNCTION, "codekg", "src/a.py::main", name="main")
    >>> f.id == entity_id(EntityKind.FUNCTION, "codekg", "src/a.py::main")
    True
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field

AttrValue: TypeAlias = str | int | float | bool | list[str] | list[int] | None
Attrs: TypeAlias = Mapping[str, AttrValue]


class EntityKind(StrEnum):
    REPOSITORY = "Repository"
    COMMIT = "Commit"
    PERSON = "Person"
    FILE = "File"
    MODULE = "Module"
    CLASS = "Class"
    FUNCTION = "Function"
    VARIABLE = "Variable"
    ISSUE = "Issue"
    PULL_REQUEST = "PullRequest"
    COMMENT = "Comment"
    ANNOTATION = "Annotation"
    INSIGHT = "Insight"


SYMBOL_KINDS: frozenset[EntityKind] = frozenset(
    {EntityKind.MODULE, EntityKind.CLASS, EntityKind.FUNCTION, EntityKind.VARIABLE}
)


class RelationKind(StrEnum):
    CONTAINS = "CONTAINS"
    DEFINES = "DEFINES"
    IMPORTS = "IMPORTS"
    CALLS = "CALLS"
    INHERITS = "INHERITS"
    REFERENCES = "REFERENCES"
    AUTHORED = "AUTHORED"
    PARENT_OF = "PARENT_OF"
    MODIFIES = "MODIFIES"
    RENAMED_TO = "RENAMED_TO"
    MENTIONS = "MENTIONS"
    CLOSES = "CLOSES"
    REVIEWS = "REVIEWS"
    COMMENTS_ON = "COMMENTS_ON"
    CO_CHANGES = "CO_CHANGES"
    ANNOTATES = "ANNOTATES"


Direction: TypeAlias = Literal["out", "in"]


def _digest(*parts: str) -> str:
    # Each part NUL-terminated, hashed in one call: ids are computed for every edge written.
    data = ("\x00".join(parts) + "\x00").encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=12).hexdigest()


def entity_id(kind: EntityKind, repo: str, key: str) -> str:
    """The global id of an entity: ``<Kind>:<24 hex>``, stable across runs and machines.

    The kind prefix lets the API resolve a Relay ``node(id)`` without a lookup.
    """
    return f"{kind.value}:{_digest(kind.value, repo, key)}"


def kind_of(eid: str) -> EntityKind:
    """The kind encoded in an entity id (raises ValueError for a malformed id)."""
    prefix, sep, _ = eid.partition(":")
    if not sep:
        raise ValueError(f"not an entity id: {eid!r}")
    return EntityKind(prefix)


def relation_id(kind: RelationKind, src: str, dst: str) -> str:
    return f"{kind.value}:{_digest(kind.value, src, dst)}"


def content_hash(data: bytes | str) -> str:
    """A short content hash (hex) used to skip unchanged files and unchanged embeddings."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


@dataclass(frozen=True, slots=True)
class Span:
    """A source range; lines are 1-based and inclusive, columns 0-based."""

    start_line: int
    end_line: int
    start_col: int = 0
    end_col: int = 0


@dataclass(frozen=True, slots=True)
class Validity:
    """When a fact holds: from a commit/time until (exclusive) a later one; open-ended if None."""

    from_commit: str | None = None
    from_time: datetime | None = None
    to_commit: str | None = None
    to_time: datetime | None = None

    @property
    def is_current(self) -> bool:
        return self.to_commit is None and self.to_time is None


ALWAYS = Validity()


@dataclass(frozen=True, slots=True)
class Entity:
    """A node of the graph.

    ``key`` is the natural key inside the repository (a path, ``path::Qual.name``, a sha);
    ``owner`` is the replace scope that produced it (see ``Batch.replace_scopes``).
    """

    id: str
    kind: EntityKind
    repo: str
    key: str
    name: str
    owner: str = ""
    path: str | None = None
    span: Span | None = None
    language: str | None = None
    attrs: Attrs = field(default_factory=dict)
    valid: Validity = ALWAYS

    @classmethod
    def make(
        cls,
        kind: EntityKind,
        repo: str,
        key: str,
        *,
        name: str,
        owner: str = "",
        path: str | None = None,
        span: Span | None = None,
        language: str | None = None,
        attrs: Attrs | None = None,
        valid: Validity = ALWAYS,
    ) -> Entity:
        return cls(
            id=entity_id(kind, repo, key),
            kind=kind,
            repo=repo,
            key=key,
            name=name,
            owner=owner,
            path=path,
            span=span,
            language=language,
            attrs=dict(attrs or {}),
            valid=valid,
        )

    def with_owner(self, owner: str) -> Entity:
        return replace(self, owner=owner)


@dataclass(frozen=True, slots=True)
class Relation:
    """A directed edge ``src -[kind]-> dst`` with how sure we are and how we know.

    ``provenance`` is ``"<extractor>:<method>"``, e.g. ``code:import-resolved``.
    """

    kind: RelationKind
    src: str
    dst: str
    confidence: float = 1.0
    provenance: str = ""
    owner: str = ""
    attrs: Attrs = field(default_factory=dict)
    valid: Validity = ALWAYS

    @property
    def id(self) -> str:
        return relation_id(self.kind, self.src, self.dst)

    def with_owner(self, owner: str) -> Relation:
        return replace(self, owner=owner)


@dataclass(frozen=True, slots=True)
class Document:
    """Text to embed for an entity; ``hash`` decides whether it must be embedded again."""

    entity_id: str
    repo: str
    kind: EntityKind
    text: str
    payload: Attrs = field(default_factory=dict)
    vector: Literal["code", "text"] = "code"

    @property
    def hash(self) -> str:
        return content_hash(self.vector + "\x00" + self.text)


def file_scope(repo: str, path: str) -> str:
    """Replace scope of what extracting one file produces."""
    return f"file:{repo}:{path}"


def resolve_scope(repo: str, path: str) -> str:
    """Replace scope of the cross-file edges resolved for the references of one file."""
    return f"resolve:{repo}:{path}"


@dataclass(slots=True)
class Batch:
    """A unit of work for ``GraphStore.apply``: upserts plus replace semantics.

    For every scope in ``replace_scopes`` the store removes what that scope owned before and is
    not in this batch, so applying the extraction of a file replaces exactly that file's facts.
    ``deletions`` removes entities (and their edges) by id. ``state`` sets (None: deletes)
    extractor state entries in the same transaction, so a recorded content hash never outlives
    a failed write.
    """

    repo: str
    entities: list[Entity] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    replace_scopes: set[str] = field(default_factory=set)
    deletions: list[str] = field(default_factory=list)
    state: dict[str, str | None] = field(default_factory=dict)

    def extend(self, other: Batch) -> None:
        self.entities.extend(other.entities)
        self.relations.extend(other.relations)
        self.documents.extend(other.documents)
        self.replace_scopes |= other.replace_scopes
        self.deletions.extend(other.deletions)
        self.state.update(other.state)

    def is_empty(self) -> bool:
        return not (
            self.entities
            or self.relations
            or self.documents
            or self.replace_scopes
            or self.deletions
            or self.state
        )


class GraphDelta(BaseModel):
    """What one ``apply`` changed; published on the bus as ``graph.delta``."""

    model_config = ConfigDict(frozen=True)

    repo: str
    added: list[str] = Field(default_factory=list)
    updated: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    relations_added: int = 0
    relations_removed: int = 0
    kinds: list[str] = Field(default_factory=list)
    paths: list[str] = Field(default_factory=list)
    commit: str | None = None

    @property
    def is_empty(self) -> bool:
        return not (
            self.added
            or self.updated
            or self.removed
            or self.relations_added
            or self.relations_removed
        )


def merge_deltas(repo: str, deltas: Iterable[GraphDelta]) -> GraphDelta:
    added: list[str] = []
    updated: list[str] = []
    removed: list[str] = []
    kinds: set[str] = set()
    paths: set[str] = set()
    ra = rr = 0
    commit: str | None = None
    for d in deltas:
        added += d.added
        updated += d.updated
        removed += d.removed
        ra += d.relations_added
        rr += d.relations_removed
        kinds.update(d.kinds)
        paths.update(d.paths)
        commit = d.commit or commit
    return GraphDelta(
        repo=repo,
        added=added,
        updated=updated,
        removed=removed,
        relations_added=ra,
        relations_removed=rr,
        kinds=sorted(kinds),
        paths=sorted(paths),
        commit=commit,
    )


@dataclass(frozen=True, slots=True)
class Neighbor:
    """One edge seen from an entity: the relation and the entity at its other end."""

    relation: Relation
    entity: Entity


@dataclass(frozen=True, slots=True)
class Reached:
    """An entity reached by a traversal, at ``depth`` hops, with the ids along the path."""

    entity: Entity
    depth: int
    path: Sequence[str]
    confidence: float
