"""What the contract suite cannot see of the SQLite store: rollback of a transaction that fails
inside SQLite, IN-list chunking, prefix bounds and the SQL builders."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest

from kg.errors import InvalidInput, StoreError
from kg.model import Batch, Entity, EntityKind, Relation, RelationKind, file_scope
from kg.stores import sql
from kg.stores.base import EntityQuery
from kg.stores.sqlite import SqliteGraphStore

REPO = "r"


def fn(path: str, name: str) -> Entity:
    return Entity.make(
        EntityKind.FUNCTION,
        REPO,
        f"{path}::{name}",
        name=name,
        path=path,
        owner=file_scope(REPO, path),
    )


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteGraphStore]:
    s = SqliteGraphStore(tmp_path / "g.db")
    await s.start()
    yield s
    await s.close()


async def test_an_error_inside_the_transaction_rolls_everything_back(
    store: SqliteGraphStore,
) -> None:
    a, b = fn("a.py", "a"), fn("a.py", "b")
    scope = file_scope(REPO, "a.py")
    await store.apply(
        Batch(
            REPO,
            entities=[a, b],
            relations=[Relation(RelationKind.CALLS, a.id, b.id, owner=scope)],
            state={"k": "v"},
        )
    )
    before = (
        await store.find(EntityQuery(repo=REPO)),
        await store.relations(REPO),
        await store.states(REPO, ""),
    )
    # A NULL name passes encoding but violates NOT NULL only after the deletions, the scope
    # replace and the first upserts have run inside the transaction.
    broken = Entity.make(EntityKind.FUNCTION, REPO, "z.py::z", name=cast(Any, None))
    batch = Batch(
        REPO,
        entities=[fn("c.py", "c"), broken],
        replace_scopes={scope},
        deletions=[a.id],
        state={"k": None},
    )
    with pytest.raises(InvalidInput, match="NOT NULL"):
        await store.apply(batch)
    after = (
        await store.find(EntityQuery(repo=REPO)),
        await store.relations(REPO),
        await store.states(REPO, ""),
    )
    assert after == before
    assert (await store.apply(Batch(REPO, entities=[fn("c.py", "c")]))).added  # still usable


async def test_calls_before_start_or_after_close_say_what_to_do(tmp_path: Path) -> None:
    s = SqliteGraphStore(tmp_path / "g.db")
    with pytest.raises(StoreError, match=r"start\(\)"):
        await s.get(["x"])
    await s.start()
    await s.start()  # idempotent
    await s.close()
    await s.close()
    with pytest.raises(StoreError, match="not started"):
        await s.stats()


async def test_many_ids_are_chunked_across_statements(store: SqliteGraphStore) -> None:
    root = fn("root.py", "root")
    kids = [fn(f"k{i}.py", "kid") for i in range(1200)]
    grandkids = [fn(f"g{i}.py", "gk") for i in range(1200)]
    rels = [Relation(RelationKind.CALLS, root.id, k.id, 0.5) for k in kids]
    rels += [
        Relation(RelationKind.CALLS, k.id, g.id, 0.5) for k, g in zip(kids, grandkids, strict=True)
    ]
    delta = await store.apply(Batch(REPO, entities=[root, *kids, *grandkids], relations=rels))
    assert (len(delta.added), delta.relations_added) == (2401, 2400)

    reached = await store.traverse([root.id], [RelationKind.CALLS], "out", 2, limit=5000)
    assert [r.depth for r in reached] == [1] * 1200 + [2] * 1200
    assert {r.confidence for r in reached if r.depth == 2} == {0.25}
    assert len(await store.traverse([root.id], [RelationKind.CALLS], "out", 2)) == 1000

    out = await store.neighbors([k.id for k in kids], None, "out")
    assert all(len(v) == 1 for v in out.values())
    assert len(await store.get([g.id for g in grandkids])) == 1200
    assert await store.count(EntityQuery(repo=REPO, name="gk")) == 1200

    delta = await store.apply(Batch(REPO, deletions=[k.id for k in kids]))
    assert (len(delta.removed), delta.relations_removed) == (1200, 2400)


async def test_prefixes_match_exactly_at_unicode_edges(store: SqliteGraphStore) -> None:
    names = ["a\U0010ffff", "a\U0010ffffz", "b", "é", "éa", "\ud7ff", "\ue000"]
    ents = [
        Entity.make(EntityKind.FUNCTION, REPO, f"u.py::{i}", name=n) for i, n in enumerate(names)
    ]
    await store.apply(Batch(REPO, entities=ents))
    for prefix in ["a", "a\U0010ffff", "é", "\ud7ff", ""]:
        found = await store.find(EntityQuery(repo=REPO, name_prefix=prefix or None))
        assert sorted(e.name for e in found) == sorted(n for n in names if n.startswith(prefix))


def test_prefix_upper_bounds() -> None:
    assert sql.prefix_upper("src/") == "src0"
    assert sql.prefix_upper("a\U0010ffff") == "b"
    assert sql.prefix_upper("\U0010ffff") is None
    assert sql.prefix_upper("") is None
    assert sql.prefix_upper("\ud7ff") == "\ue000"


def test_builders_bind_values_and_never_embed_them() -> None:
    flt = sql.EntityFilter(repo=True, kinds=2, name_prefix=True, name_upper=True, after=True)
    stmt = sql.find_entities(flt)
    assert stmt.count("?") == 7  # repo, 2 kinds, prefix, upper, after, limit
    assert stmt.endswith("ORDER BY id LIMIT ?")
    assert sql.count_entities(sql.EntityFilter()) == "SELECT count(*) FROM entities"
    assert sql.hop(3, 0, "in") == (
        "SELECT dst, src, confidence FROM relations WHERE dst IN (?,?,?)"
    )
    assert "r.src IN (?,?)" in sql.neighbors(2, 1, "out")
    assert "e.id = r.dst" in sql.neighbors(2, 1, "out")
    assert sql.UPSERT_ENTITY.count("?") == len(sql.ENTITY_COLUMNS) + 1
    with pytest.raises(ValueError, match="placeholder"):
        sql.in_list(0)
