"""Helpers shared by the API tests (``test_api*.py``): an instrumented store, HTTP and
server harnesses, and event builders. Fixtures live in ``conftest.py``."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette

from api.app import create_app
from kg.events.base import Event, EventBus
from kg.model import (
    Batch,
    Direction,
    Entity,
    GraphDelta,
    Neighbor,
    Reached,
    Relation,
    RelationKind,
)
from kg.service import GraphService
from kg.settings import Settings
from kg.stores.base import EntityQuery, GraphStore

SETTINGS = Settings(_env_file=None, cors_origins=["http://ide.example"])


class InstrumentedStore:
    """The real store, with every call counted (and chosen methods made to fail)."""

    def __init__(self, inner: GraphStore, fail: Sequence[str] = ()) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()
        self.fail = set(fail)

    @property
    def concurrent_applies(self) -> int:
        return self.inner.concurrent_applies

    def _hit(self, name: str) -> None:
        self.calls[name] += 1
        if name in self.fail:
            raise RuntimeError(f"disk I/O error at /secret/{name}.db")

    async def start(self) -> None:
        await self.inner.start()

    async def close(self) -> None:
        await self.inner.close()

    async def apply(self, batch: Batch) -> GraphDelta:
        self._hit("apply")
        return await self.inner.apply(batch)

    async def get(self, ids: Sequence[str]) -> list[Entity | None]:
        self._hit("get")
        return await self.inner.get(ids)

    async def find(self, query: EntityQuery) -> list[Entity]:
        self._hit("find")
        return await self.inner.find(query)

    async def count(self, query: EntityQuery) -> int:
        self._hit("count")
        return await self.inner.count(query)

    async def neighbors(
        self, ids: Sequence[str], kinds: Sequence[RelationKind] | None, direction: Direction
    ) -> dict[str, list[Neighbor]]:
        self._hit("neighbors")
        return await self.inner.neighbors(ids, kinds, direction)

    async def traverse(
        self,
        start: Sequence[str],
        kinds: Sequence[RelationKind],
        direction: Direction,
        depth: int,
        limit: int = 1000,
    ) -> list[Reached]:
        self._hit("traverse")
        return await self.inner.traverse(start, kinds, direction, depth, limit)

    async def relations(
        self, repo: str, kinds: Sequence[RelationKind] | None = None
    ) -> list[Relation]:
        self._hit("relations")
        return await self.inner.relations(repo, kinds)

    async def get_state(self, repo: str, key: str) -> str | None:
        return await self.inner.get_state(repo, key)

    async def states(self, repo: str, prefix: str) -> dict[str, str]:
        return await self.inner.states(repo, prefix)

    async def set_state(self, repo: str, key: str, value: str | None) -> None:
        await self.inner.set_state(repo, key, value)

    async def stats(self, repo: str | None = None) -> dict[str, int]:
        self._hit("stats")
        return await self.inner.stats(repo)


@contextlib.asynccontextmanager
async def http_client(
    service: GraphService, settings: Settings = SETTINGS, headers: dict[str, str] | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(settings, service))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://kg.test", headers=headers
    ) as c:
        yield c


async def gql_post(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    r = await client.post("/graphql", json={"query": query, "variables": variables})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def data_of(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    body = await gql_post(client, query, **variables)
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


@contextlib.asynccontextmanager
async def running_server(app: Starlette) -> AsyncIterator[int]:
    """``app`` served by uvicorn on 127.0.0.1 (a free port, yielded) for the block."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="auto"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(500):
            if server.started:
                break
            await asyncio.sleep(0.02)
        assert server.started
        yield port
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()


def delta_event(repo: str, fid: str) -> Event:
    delta = GraphDelta(
        repo=repo,
        added=[fid],
        updated=[],
        removed=["Function:gone"],
        relations_added=2,
        kinds=["Function"],
        paths=["pkg/new.py"],
    )
    return Event.of("graph.delta", repo=repo, payload=delta.model_dump())


async def publish_until(bus: EventBus, done: asyncio.Future[Any], events: list[Event]) -> None:
    """Publish until the client got something: the server subscribes to the bus only once
    the operation starts, and events published before that are (by design) not replayed."""
    while not done.done():
        for e in events:
            await bus.publish(e)
        await asyncio.sleep(0.05)
