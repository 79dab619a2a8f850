"""Applies in flight side by side (``kg.stores.inflight``) on the real Neo4j test service.

The store asks for two applies in flight; bulk loads (the pipeline's code stages, the store
bench) keep that many. The graph must be exactly what sequential applies give, including
when batches add relationships to the same popular (dense) entities, where Neo4j's degree locks
deadlock concurrent transactions and the store re-runs the loser. The Neo4j service is shared:
every test uses its own repository names and deletes what it wrote.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from api_support import InstrumentedStore

from extractors.registry import ExtractorRegistry
from kg import pipeline
from kg.errors import StoreError
from kg.model import (
    Batch,
    Entity,
    EntityKind,
    GraphDelta,
    Relation,
    RelationKind,
    file_scope,
    resolve_scope,
)
from kg.pipeline import Indexer
from kg.stores.base import EntityQuery
from kg.stores.inflight import apply_in_order
from kg.stores.neo4j import Neo4jGraphStore
from kg.stores.sqlite import SqliteGraphStore

pytestmark = pytest.mark.neo4j

FILES, FUNCTIONS, HOT = 24, 8, 3


def synthetic(repo: str) -> tuple[list[Batch], list[Batch]]:
    """Per group of 4 files: their entities and CONTAINS, then their resolved CALLS, most of
    them to a few hot functions (each ends up with well over Neo4j's dense-node threshold)."""
    rng = random.Random(5)
    funcs = {
        f"m{i}.py": [
            Entity.make(EntityKind.FUNCTION, repo, f"m{i}.py::f{j}", name=f"f{j}", path=f"m{i}.py")
            for j in range(FUNCTIONS)
        ]
        for i in range(FILES)
    }
    flat = [f for fs in funcs.values() for f in fs]
    hot = flat[:HOT]
    extract: list[Batch] = []
    resolve: list[Batch] = []
    for path, fs in funcs.items():
        owner = file_scope(repo, path)
        file = Entity.make(EntityKind.FILE, repo, path, name=path, path=path, owner=owner)
        ents = [file, *(f.with_owner(owner) for f in fs)]
        contains = [Relation(RelationKind.CONTAINS, file.id, f.id, owner=owner) for f in fs]
        extract.append(Batch(repo, ents, contains, replace_scopes={owner}))
        scope = resolve_scope(repo, path)
        calls = {
            (f.id, dst.id): Relation(RelationKind.CALLS, f.id, dst.id, 0.5, "test", scope)
            for f in fs
            for dst in [*hot, rng.choice(flat)]
        }
        resolve.append(Batch(repo, [], list(calls.values()), replace_scopes={scope}))
    return grouped(extract), grouped(resolve)


def grouped(batches: list[Batch], size: int = 4) -> list[Batch]:
    out = []
    for i in range(0, len(batches), size):
        part = batches[i : i + size]
        out.append(
            Batch(
                part[0].repo,
                [e for b in part for e in b.entities],
                [r for b in part for r in b.relations],
                replace_scopes={s for b in part for s in b.replace_scopes},
            )
        )
    return out


async def snapshot(store: Neo4jGraphStore | SqliteGraphStore, repo: str) -> tuple[object, ...]:
    entities = await store.find(EntityQuery(repo=repo, limit=10_000))
    return (
        tuple(entities),
        tuple(await store.relations(repo)),
        tuple(sorted((await store.stats(repo)).items())),
    )


async def delete_repo(store: Neo4jGraphStore, repo: str) -> None:
    while ids := [e.id for e in await store.find(EntityQuery(repo=repo, limit=1000))]:
        await store.apply(Batch(repo=repo, deletions=ids))


def summary(deltas: list[GraphDelta]) -> list[tuple[object, ...]]:
    return [
        (
            sorted(d.added),
            sorted(d.updated),
            sorted(d.removed),
            d.relations_added,
            d.relations_removed,
        )
        for d in deltas
    ]


@pytest.fixture
async def stores(neo4j_url: str) -> AsyncIterator[tuple[Neo4jGraphStore, Neo4jGraphStore, str]]:
    """Two stores on the service (each with its own client-side locks) and a fresh repo name."""
    repo = f"inflight-{uuid.uuid4().hex[:8]}"
    pair = (Neo4jGraphStore(neo4j_url), Neo4jGraphStore(neo4j_url))
    for store in pair:
        await store.start()
    try:
        yield pair[0], pair[1], repo
    finally:
        try:
            await delete_repo(pair[0], repo)
        finally:
            for store in pair:
                await store.close()


async def test_applies_in_flight_give_the_graph_and_deltas_of_sequential_applies(
    stores: tuple[Neo4jGraphStore, Neo4jGraphStore, str],
) -> None:
    store, other, repo = stores
    assert store.concurrent_applies == 2
    extract, resolve = synthetic(repo)
    sequential = [
        *await apply_in_order(store.apply, 1, extract),
        *await apply_in_order(store.apply, 1, resolve),
    ]
    expected = await snapshot(store, repo)
    stats = dict(expected[2])  # type: ignore[arg-type]
    assert stats["CALLS"] == len({(r.src, r.dst) for b in resolve for r in b.relations})
    assert stats["Function"] == FILES * FUNCTIONS
    await delete_repo(store, repo)

    in_flight = [
        *await apply_in_order(store.apply, store.concurrent_applies, extract),
        *await apply_in_order(store.apply, store.concurrent_applies, resolve),
    ]
    assert summary(in_flight) == summary(sequential)
    assert await snapshot(store, repo) == expected
    await delete_repo(store, repo)

    # Two clients, so nothing on the client side keeps their resolved batches apart: both add
    # CALLS to the same hot functions at once; a deadlocked transaction is re-run whole.
    await apply_in_order(store.apply, 2, extract)
    halves = await asyncio.gather(
        apply_in_order(store.apply, 2, resolve[::2]), apply_in_order(other.apply, 2, resolve[1::2])
    )
    added = sum(d.relations_added for half in halves for d in half)
    assert added == sum(d.relations_added for d in sequential[len(extract) :])
    assert await snapshot(store, repo) == expected
    # Applying it all again changes nothing, whatever ran side by side.
    again = await apply_in_order(store.apply, 2, [*extract, *resolve])
    assert all(d.is_empty for d in again)


class FailingStore(InstrumentedStore):
    """The real store, except that its ``nth`` apply fails once its neighbour is in flight."""

    def __init__(self, inner: Neo4jGraphStore, nth: int) -> None:
        super().__init__(inner)
        self.nth = nth

    async def apply(self, batch: Batch) -> GraphDelta:
        self._hit("apply")
        if self.calls["apply"] == self.nth:
            await asyncio.sleep(0.05)
            raise StoreError("lost the Neo4j graph store (test)")
        return await self.inner.apply(batch)


async def test_a_failed_apply_lets_the_one_in_flight_commit_and_settle_before_raising(
    stores: tuple[Neo4jGraphStore, Neo4jGraphStore, str],
) -> None:
    store, _, repo = stores
    extract, _ = synthetic(repo)
    failing = FailingStore(store, nth=3)
    settled: list[int] = []

    async def then(batch: Batch, delta: GraphDelta) -> None:
        settled.append(extract.index(batch))
        assert len(delta.added) == len(batch.entities)

    with pytest.raises(StoreError, match="test"):
        await apply_in_order(failing.apply, 2, extract, then)
    # Batch 3 (index 2) failed while batch 4 (index 3) was in flight: no batch after it was
    # started, the one in flight committed and was settled, in order.
    assert settled == [0, 1, 3]
    assert failing.calls["apply"] == 4
    for i, batch in enumerate(extract):
        paths = sorted(e.path for e in batch.entities if e.kind is EntityKind.FILE)
        found = [await store.count(EntityQuery(repo=repo, path=p)) for p in paths if p is not None]
        assert found == ([0] * len(paths) if i in (2, 4, 5) else [FUNCTIONS + 1] * len(paths))


async def test_the_pipeline_reloads_its_cache_after_a_failed_write_with_applies_in_flight(
    stores: tuple[Neo4jGraphStore, Neo4jGraphStore, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store, _, _ = stores
    root = tmp_path / f"proj{uuid.uuid4().hex[:8]}"
    root.mkdir()
    for i in range(6):
        (root / f"mod{i}.py").write_text(
            f"from mod{(i + 1) % 6} import g{(i + 1) % 6}\n\n\ndef g{i}() -> int:\n"
            f"    return g{(i + 1) % 6}() if False else {i}\n"
        )
    repo = root.name
    monkeypatch.setattr(pipeline, "CHUNK_FILES", 2)  # three file batches, two in flight
    registry = ExtractorRegistry.from_entry_points(strict=False)
    # Apply 1 writes the repository entity, 2-4 the file batches: the second one fails.
    failing = FailingStore(store, nth=3)
    try:
        indexer = Indexer(failing, registry, history=False)
        with pytest.raises(StoreError, match="test"):
            await indexer.index(root, repo)
        assert failing.calls["apply"] == 4  # the third file batch was in flight
        assert repo not in indexer._caches  # the next index reads the store again

        # The same indexer, the store healthy again: every file's entities and edges are
        # there, as in a fresh embedded index (a run's hashes are written last, so the files
        # whose batch committed before the failure are redone too).
        failing.nth = 0
        await indexer.index(root, repo)
        embedded = SqliteGraphStore(tmp_path / "fresh.db")
        await embedded.start()
        try:
            await Indexer(embedded, registry, history=False).index(root, repo)
            fresh = await embedded.find(EntityQuery(repo=repo, limit=1000))
            assert await store.find(EntityQuery(repo=repo, limit=1000)) == fresh
            kinds = [RelationKind.CALLS, RelationKind.IMPORTS, RelationKind.REFERENCES]
            edges = {(r.id, r.confidence) for r in await embedded.relations(repo, kinds)}
            assert (
                edges
                and {(r.id, r.confidence) for r in await store.relations(repo, kinds)} == edges
            )
            assert {e.path for e in fresh if e.kind is EntityKind.FILE} == {
                f"mod{i}.py" for i in range(6)
            }
        finally:
            await embedded.close()
    finally:
        await delete_repo(store, repo)
