"""The ``graph_store`` fixture: every GraphStore implementation, each test on a fresh store.

To run the contract suite on another backend, append a ``GraphStoreBackend`` to
``GRAPH_STORE_FACTORIES``. Its factory is an async context manager taking the test's
``tmp_path``: it yields a *started*, empty store and closes (and cleans up) on exit, so a
server backend can wipe its database before yielding and after the test.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Collection
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import NamedTuple

import pytest

from kg.stores.base import GraphStore
from kg.stores.neo4j import Neo4jGraphStore
from kg.stores.sqlite import SqliteGraphStore

GraphStoreFactory = Callable[[Path], AbstractAsyncContextManager[GraphStore]]


class GraphStoreBackend(NamedTuple):
    name: str
    factory: GraphStoreFactory
    marks: Collection[pytest.MarkDecorator] = ()


@asynccontextmanager
async def sqlite_store(tmp_path: Path) -> AsyncIterator[GraphStore]:
    store = SqliteGraphStore(tmp_path / "graph.db")
    await store.start()
    try:
        yield store
    finally:
        await store.close()


@asynccontextmanager
async def neo4j_store(tmp_path: Path) -> AsyncIterator[GraphStore]:
    # The `neo4j` mark makes the root conftest check KG_TEST_NEO4J_URL first (fail in CI).
    store = Neo4jGraphStore(os.environ["KG_TEST_NEO4J_URL"])
    await store.start()
    await store.wipe()
    try:
        yield store
    finally:
        await store.wipe()
        await store.close()


GRAPH_STORE_FACTORIES: list[GraphStoreBackend] = [
    GraphStoreBackend("sqlite", sqlite_store),
    GraphStoreBackend("neo4j", neo4j_store, marks=(pytest.mark.neo4j,)),
]


@pytest.fixture(
    params=[pytest.param(b, id=b.name, marks=list(b.marks)) for b in GRAPH_STORE_FACTORIES]
)
async def graph_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[GraphStore]:
    backend: GraphStoreBackend = request.param
    async with backend.factory(tmp_path) as store:
        yield store
