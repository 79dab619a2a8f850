"""Graph algorithms over a real SQLite GraphStore with a small graph of known shape."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kg.model import Batch, Entity, EntityKind, Relation, RelationKind
from kg.stores.algorithms import degree_centrality, pagerank
from kg.stores.sqlite import SqliteGraphStore

REPO = "algo"
NAMES = ("main", "cli", "api", "util", "log", "rare", "lonely")


def ids() -> dict[str, str]:
    return {n: Entity.make(EntityKind.FUNCTION, REPO, f"m.py::{n}", name=n).id for n in NAMES}


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteGraphStore]:
    """main, cli, api -> util -> log; main -> rare at low confidence; lonely only REFERENCES."""
    e = {n: Entity.make(EntityKind.FUNCTION, REPO, f"m.py::{n}", name=n) for n in NAMES}

    def calls(a: str, b: str, conf: float = 1.0) -> Relation:
        return Relation(RelationKind.CALLS, e[a].id, e[b].id, confidence=conf)

    relations = [
        calls("main", "util"),
        calls("cli", "util"),
        calls("api", "util"),
        calls("util", "log"),
        calls("main", "rare", 0.1),
        calls("main", "cli"),
        Relation(RelationKind.REFERENCES, e["lonely"].id, e["util"].id),
    ]
    s = SqliteGraphStore(tmp_path / "g.db")
    await s.start()
    await s.apply(Batch(REPO, entities=list(e.values()), relations=relations))
    yield s
    await s.close()


async def test_pagerank_ranks_the_most_depended_upon_first(store: SqliteGraphStore) -> None:
    i = ids()
    ranks = await pagerank(store, REPO)
    by_name = {n: ranks[i[n]] for n in NAMES if i[n] in ranks}
    assert "lonely" not in by_name  # only a REFERENCES edge, which is not a default kind
    assert set(by_name) == set(NAMES) - {"lonely"}
    assert sum(ranks.values()) == pytest.approx(1.0)
    # log gets all of util's rank; util is called by three; cli by one; roots by none.
    assert by_name["log"] > by_name["util"] > by_name["cli"] > by_name["main"]
    assert by_name["cli"] > by_name["rare"] > by_name["main"]  # rare's only edge is weak
    assert by_name["main"] == pytest.approx(by_name["api"])
    assert await pagerank(store, REPO) == ranks  # deterministic


async def test_pagerank_follows_the_asked_kinds(store: SqliteGraphStore) -> None:
    i = ids()
    ranks = await pagerank(store, REPO, [RelationKind.REFERENCES])
    assert set(ranks) == {i["lonely"], i["util"]}
    assert ranks[i["util"]] > ranks[i["lonely"]]
    assert await pagerank(store, REPO, [RelationKind.INHERITS]) == {}
    assert await pagerank(store, "no-such-repo") == {}


async def test_degree_centrality_by_direction(store: SqliteGraphStore) -> None:
    i = ids()
    n = 6  # nodes with a CALLS/IMPORTS/INHERITS edge
    inbound = await degree_centrality(store, REPO, direction="in")
    assert inbound[i["util"]] == pytest.approx(3 / (n - 1))
    assert inbound[i["main"]] == 0.0
    outbound = await degree_centrality(store, REPO, direction="out")
    assert outbound[i["main"]] == pytest.approx(3 / (n - 1))
    assert outbound[i["log"]] == 0.0
    both = await degree_centrality(store, REPO)
    assert both[i["util"]] == pytest.approx(4 / (n - 1))
    assert max(both, key=both.__getitem__) == i["util"]
