"""Neo4j's level-by-level ``traverse`` answers exactly like the embedded store's.

The contract suite pins the semantics on small hand-made graphs; this compares both real stores
on a random graph with hubs, cycles, parallel edges of several kinds and tied confidences, for
limits that cut inside a level, fill the first level or are never reached.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from kg.model import Batch, Entity, EntityKind, Reached, Relation, RelationKind
from kg.stores.neo4j import Neo4jGraphStore
from kg.stores.sqlite import SqliteGraphStore

REPO = "traverse-equivalence"
KINDS = [RelationKind.CALLS, RelationKind.IMPORTS, RelationKind.CONTAINS]


def random_graph(seed: int, n: int = 80) -> Batch:
    rng = random.Random(seed)
    ents = [
        Entity.make(EntityKind.FUNCTION, REPO, f"m{i % 7}.py::f{i}", name=f"f{i}") for i in range(n)
    ]
    hubs = ents[:3]  # called from nearly everywhere: levels far larger than small limits
    rels: dict[str, Relation] = {}
    for e in ents:
        targets = [*rng.sample(ents, 3), *(h for h in hubs if rng.random() < 0.7)]
        for t in targets:
            kind = rng.choice(KINDS)
            conf = rng.choice([0.5, 0.8, 1.0])  # few values: ties between parents are common
            r = Relation(kind, e.id, t.id, conf, "test:random")
            rels[r.id] = r
    return Batch(REPO, ents, list(rels.values()))


def shape(got: list[Reached]) -> list[tuple[str, int, tuple[str, ...], float]]:
    return [(r.entity.id, r.depth, tuple(r.path), round(r.confidence, 12)) for r in got]


@pytest.mark.neo4j
async def test_traverse_matches_the_embedded_store(neo4j_url: str, tmp_path: Path) -> None:
    batch = random_graph(seed=3)
    lite = SqliteGraphStore(tmp_path / "graph.db")
    neo = Neo4jGraphStore(neo4j_url)
    await lite.start()
    await neo.start()
    try:
        await neo.wipe()
        await lite.apply(batch)
        await neo.apply(batch)
        rng = random.Random(5)
        ids = [e.id for e in batch.entities]
        compared = 0
        for start in [ids[:1], ids[1:2], ids[5:6], rng.sample(ids, 3), rng.sample(ids, 2)]:
            for kinds in (KINDS, [RelationKind.CALLS], [RelationKind.IMPORTS, RelationKind.CALLS]):
                for direction in ("out", "in"):
                    for depth, limit in ((1, 1000), (2, 1000), (3, 1000), (2, 7), (3, 30), (2, 1)):
                        want = await lite.traverse(start, kinds, direction, depth, limit)
                        got = await neo.traverse(start, kinds, direction, depth, limit)
                        assert shape(got) == shape(want), (start, kinds, direction, depth, limit)
                        assert [r.entity for r in got] == [r.entity for r in want]
                        compared += bool(want)
        assert compared > 100  # most combinations reach something
    finally:
        await neo.wipe()
        await neo.close()
        await lite.close()
