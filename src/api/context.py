"""Per-request context: the service plus DataLoaders, so every node and edge field batches.

One ``Loaders`` lives for one HTTP request: all ``node``/``file`` lookups of a request go
through one ``get`` call per tick, all ``callers`` of the same depth through ``depth``
``neighbors`` calls, whatever the number of parent nodes. A WebSocket connection keeps its
context for its whole life, so there the loaders batch but do not cache (the graph changes
under a long-lived connection; that is what its subscriptions are about).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import strawberry
from strawberry.dataloader import DataLoader

from kg.model import Direction, Entity, Neighbor, RelationKind
from kg.service import GraphService, Hop
from kg.settings import Settings

REACH_LIMIT = 1000

RelKey = tuple[tuple[RelationKind, ...], Direction]
ReachKey = tuple[tuple[RelationKind, ...], Direction, int]


@dataclass
class Loaders:
    service: GraphService
    cache: bool = True
    _nodes: DataLoader[str, Entity | None] | None = None
    _edges: dict[RelKey, DataLoader[str, list[Neighbor]]] = field(default_factory=dict)
    _reach: dict[ReachKey, DataLoader[str, list[Hop]]] = field(default_factory=dict)

    @property
    def nodes(self) -> DataLoader[str, Entity | None]:
        if self._nodes is None:
            self._nodes = DataLoader(load_fn=self._load_nodes, cache=self.cache)
        return self._nodes

    def edges(
        self, kinds: Sequence[RelationKind], direction: Direction
    ) -> DataLoader[str, list[Neighbor]]:
        """Neighbors over ``kinds`` in ``direction``, batched across all parents of a tick."""
        key: RelKey = (tuple(kinds), direction)
        loader = self._edges.get(key)
        if loader is None:

            async def load(ids: list[str]) -> list[list[Neighbor]]:
                found = await self.service.neighbors(ids, list(key[0]), key[1])
                return [found.get(i, []) for i in ids]

            loader = self._edges[key] = DataLoader(load_fn=load, cache=self.cache)
        return loader

    def reach(
        self, kinds: Sequence[RelationKind], direction: Direction, depth: int
    ) -> DataLoader[str, list[Hop]]:
        """Multi-hop reach per start entity (``depth`` store calls for the whole batch)."""
        key: ReachKey = (tuple(kinds), direction, depth)
        loader = self._reach.get(key)
        if loader is None:

            async def load(ids: list[str]) -> list[list[Hop]]:
                found = await self.service.traverse_many(
                    ids, list(key[0]), key[1], key[2], limit=REACH_LIMIT
                )
                return [found.get(i, []) for i in ids]

            loader = self._reach[key] = DataLoader(load_fn=load, cache=self.cache)
        return loader

    async def _load_nodes(self, ids: list[str]) -> list[Entity | None]:
        return await self.service.get(ids)


@dataclass
class ApiContext:
    """What every resolver sees. ``connection_params`` is a WebSocket's ``connection_init``
    payload (strawberry sets it); ``authorized`` says whether the request carried the
    configured bearer token (always true when no token is configured)."""

    settings: Settings
    service: GraphService
    loaders: Loaders
    authorized: bool = True
    connection_params: dict[str, object] | None = None


Info = strawberry.Info[ApiContext, None]


def make_context(
    settings: Settings, service: GraphService, *, cache: bool = True, authorized: bool = True
) -> ApiContext:
    return ApiContext(
        settings=settings, service=service, loaders=Loaders(service, cache), authorized=authorized
    )
