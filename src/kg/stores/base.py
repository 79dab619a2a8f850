"""The GraphStore seam: where entities and relations live.

Implementations: ``kg.stores.sqlite.SqliteGraphStore`` (embedded default, SQLite WAL + networkx
for algorithms) and ``kg.stores.neo4j.Neo4jGraphStore``. Both pass ``tests/contract/
test_graph_store.py`` unchanged. Stores return model objects, never driver records.

Typical use::

    store = open_graph_store(settings.graph_url)   # kg.stores.factory
    await store.start()
    delta = await store.apply(batch)                # idempotent, per-scope replace
    callers = await store.traverse([fid], [RelationKind.CALLS], "in", depth=2)
    await store.close()
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from kg.model import (
    Batch,
    Direction,
    Entity,
    EntityKind,
    GraphDelta,
    Neighbor,
    Reached,
    Relation,
    RelationKind,
)


@dataclass(frozen=True, slots=True)
class EntityQuery:
    """A filter over entities; every field narrows, ``None`` means any.

    ``name`` matches exactly; ``name_prefix``/``path_prefix`` match prefixes. Results are ordered
    by id, and ``after`` is an exclusive id cursor (keyset pagination).
    """

    repo: str | None = None
    kinds: Sequence[EntityKind] | None = None
    name: str | None = None
    name_prefix: str | None = None
    path: str | None = None
    path_prefix: str | None = None
    key: str | None = None
    after: str | None = None
    limit: int = 100


@runtime_checkable
class GraphStore(Protocol):
    """Async graph persistence with per-scope replace semantics."""

    @property
    def concurrent_applies(self) -> int:
        """How many ``apply`` calls of independent batches are worth running at once (1: one
        after another). ``kg.stores.inflight.apply_in_order`` keeps that many in flight."""
        ...

    async def start(self) -> None:
        """Connect / create schema (idempotent). Raises StoreUnavailable naming the URL."""

    async def close(self) -> None: ...

    async def apply(self, batch: Batch) -> GraphDelta:
        """Apply a batch atomically and return what changed.

        For each scope in ``batch.replace_scopes``: entities and relations owned by that scope
        but absent from the batch are removed (entities with their incident edges). Entities and
        relations in the batch are upserted; identical rows are not rewritten, so applying the
        same batch twice yields an empty delta. Relations whose endpoint does not exist after
        the batch are dropped (counted neither as added nor removed).
        """
        ...

    async def get(self, ids: Sequence[str]) -> list[Entity | None]:
        """Entities by id, in the order asked, ``None`` where absent (DataLoader-friendly)."""
        ...

    async def find(self, query: EntityQuery) -> list[Entity]: ...

    async def count(self, query: EntityQuery) -> int: ...

    async def neighbors(
        self,
        ids: Sequence[str],
        kinds: Sequence[RelationKind] | None,
        direction: Direction,
    ) -> dict[str, list[Neighbor]]:
        """Edges of many entities at once: ``{id: [Neighbor]}`` (every asked id is a key)."""
        ...

    async def traverse(
        self,
        start: Sequence[str],
        kinds: Sequence[RelationKind],
        direction: Direction,
        depth: int,
        limit: int = 1000,
    ) -> list[Reached]:
        """Breadth-first reach from ``start`` along ``kinds`` up to ``depth`` hops.

        Each entity is reported once, at its smallest depth, with one shortest path (ids from a
        start entity to it) and the product of edge confidences along that path. The start
        entities themselves are not reported. Ordered by (depth, id).
        """
        ...

    async def relations(
        self, repo: str, kinds: Sequence[RelationKind] | None = None
    ) -> list[Relation]:
        """Every relation of a repository (of the given kinds), for algorithms like PageRank."""
        ...

    async def get_state(self, repo: str, key: str) -> str | None:
        """Extractor state (last indexed commit, a file's content hash, its symbol table)."""
        ...

    async def states(self, repo: str, prefix: str) -> dict[str, str]:
        """All state entries of a repository whose key starts with ``prefix``."""
        ...

    async def set_state(self, repo: str, key: str, value: str | None) -> None:
        """Set (or, with None, delete) one state entry outside a batch."""
        ...

    async def stats(self, repo: str | None = None) -> dict[str, int]:
        """Counts by entity kind and relation kind (keys are the kind names)."""
        ...
