"""A down vector index degrades the worker instead of failing events: the graph keeps
following edits, vector writes wait in a bounded backlog and are caught up when the index is
back, and the worker says so. Real SQLite, real embedded Qdrant engine (lexical vectors: no
model to load), real Qdrant client against a port where nothing listens."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from embeddings.hybrid import document_point
from embeddings.index.base import VectorIndex, VectorPoint
from embeddings.index.edge import EdgeVectorIndex
from embeddings.index.qdrant import QdrantVectorIndex
from embeddings.sparse import SparseEncoder
from extractors.registry import ExtractorRegistry
from kg.events.base import Event
from kg.events.memory import InProcessBus
from kg.events.schema import is_source_event
from kg.events.source import SubscriptionSource
from kg.model import Document, EntityKind, entity_id
from kg.resilience import CircuitBreaker, GuardedVectorIndex
from kg.runtime import Runtime
from kg.settings import Settings
from kg.stores.sqlite import SqliteGraphStore
from kg.worker import Worker, assemble

REPO = "vec"
UTIL = "def core(x):\n    return x + 1\n"
WAIT = 30.0


def fn(name: str) -> str:
    return entity_id(EntityKind.FUNCTION, REPO, f"pkg/util.py::{name}")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / REPO
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "util.py").write_text(UTIL)
    return root


async def runtime(tmp_path: Path, index: VectorIndex) -> Runtime:
    store = SqliteGraphStore(tmp_path / "graph.db")
    await store.start()
    bus = InProcessBus()
    await bus.start()
    return Runtime(
        settings=Settings(graph_url=f"sqlite:///{tmp_path}/graph.db", history=False),
        store=store,
        index=index,
        embedder=None,  # lexical vectors only: the index is what is under test
        sparse=SparseEncoder(),
        bus=bus,
        registry=ExtractorRegistry.from_entry_points(strict=False),
    )


@pytest.fixture
async def edge(tmp_path: Path, root: Path) -> AsyncIterator[tuple[Runtime, EdgeVectorIndex]]:
    index = EdgeVectorIndex(tmp_path / "vectors")
    rt = await runtime(tmp_path, index)
    stage = rt.embedding_stage()
    assert stage is not None
    await stage.start()
    await rt.indexer().index(root, REPO)
    yield rt, index
    await index.close()
    await rt.bus.close()
    await rt.store.close()


async def started(rt: Runtime) -> tuple[Worker, SubscriptionSource]:
    source = SubscriptionSource(rt.bus, ["*"], accept=is_source_event)
    await source.start()
    return assemble(rt, source, fetch_wait=0.05), source


def save(body: str) -> Event:
    return Event.of("file.changed", repo=REPO, payload={"path": "pkg/util.py", "content": body})


async def functions(rt: Runtime) -> set[str]:
    found = await rt.store.get([fn("core"), fn("fresh"), fn("later")])
    return {e.name for e in found if e is not None}


async def test_removed_index_parks_vectors_and_catches_up_when_back(
    tmp_path: Path, edge: tuple[Runtime, EdgeVectorIndex]
) -> None:
    rt, index = edge
    assert fn("core") in await index.hashes([fn("core")])
    worker, source = await started(rt)
    # the index goes away under the worker: closed, its directory moved
    await index.close()
    away = tmp_path / "vectors.away"
    index.path.rename(away)

    await rt.bus.publish(save(UTIL + "\n\ndef fresh(y):\n    return core(y)\n"))
    async with asyncio.timeout(WAIT):
        while fn("fresh") not in {fn(n) for n in await functions(rt)}:
            await worker.step()
    assert worker.stats.applied == 1 and worker.stats.dead_lettered == 0  # the event is applied
    assert not worker.stats.degraded  # the graph store is fine
    assert worker.stats.vectors.startswith("vector index: degraded")
    assert "does not exist" in worker.stats.vectors and worker.stats.vector_backlog >= 1

    await rt.bus.publish(save(UTIL + "\n\ndef later(y):\n    return y\n"))  # still down
    async with asyncio.timeout(WAIT):
        while worker.stats.applied < 2:
            await worker.step()
    assert await functions(rt) == {"core", "later"}

    away.rename(index.path)  # the index is back
    async with asyncio.timeout(WAIT):
        while worker.stats.vectors != "ok":
            await worker.step()
            await asyncio.sleep(0.05)
    assert worker.stats.vector_backlog == 0
    caught = await index.hashes([fn("later"), fn("fresh")])
    assert set(caught) == {fn("later")}  # fresh was written, then deleted, while it was down
    await source.close()


async def test_backlog_keeps_the_latest_write_per_id_and_is_bounded(tmp_path: Path) -> None:
    index = EdgeVectorIndex(tmp_path / "vectors")
    rt = await runtime(tmp_path, index)
    stage = rt.embedding_stage()
    assert stage is not None
    await stage.start()
    await index.close()
    (tmp_path / "vectors").rename(tmp_path / "away")
    breaker = CircuitBreaker("vector index", failures=1, reset_after=0.0)
    guarded = GuardedVectorIndex(index, breaker, max_backlog=2)
    good = await index_point(rt, "a", "alpha text")
    await guarded.upsert([good])
    await guarded.delete(["a"])
    await guarded.upsert([good])  # the latest write for "a" wins
    await guarded.upsert([await index_point(rt, "b", "beta"), await index_point(rt, "c", "gamma")])
    assert guarded.degraded and guarded.backlog == 2 and guarded.lost == 1  # "a" was oldest
    assert "1 dropped" in guarded.describe()
    assert set(await guarded.hashes(["b", "c"])) == {"b", "c"}  # answered from the backlog
    (tmp_path / "away").rename(tmp_path / "vectors")
    assert await guarded.catch_up() == 2
    assert not guarded.degraded and set(await index.hashes(["a", "b", "c"])) == {"b", "c"}
    await index.close()
    await rt.bus.close()
    await rt.store.close()


async def index_point(rt: Runtime, eid: str, text: str) -> VectorPoint:
    doc = Document(entity_id=eid, repo=REPO, kind=EntityKind.FUNCTION, text=text)
    return document_point(doc, None, rt.sparse.encode_document(text))


async def test_unreachable_qdrant_server_does_not_stop_the_graph(
    tmp_path: Path, root: Path
) -> None:
    # a Qdrant server URL where nothing listens: every vector call is refused at once
    rt = await runtime(tmp_path, QdrantVectorIndex("http://127.0.0.1:9", "down"))
    await rt.indexer(embed=False).index(root, REPO)
    worker, source = await started(rt)
    await rt.bus.publish(save(UTIL + "\n\ndef fresh(y):\n    return y\n"))
    async with asyncio.timeout(WAIT):
        while worker.stats.applied < 1:
            await worker.step()
    assert "fresh" in await functions(rt)
    assert "not reachable" in worker.stats.vectors and worker.stats.vector_backlog >= 1
    await source.close()
    await rt.bus.close()
    await rt.store.close()
