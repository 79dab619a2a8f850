"""Graph-aware ranking over a real SQLite graph, a real embedded index and the real bus.

Base search is lexical (no model needed): every document shares the query's words, so every
function is a candidate and the graph signals decide what moves where.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from embeddings.hybrid import HybridSearcher, SearchHit
from embeddings.index.base import VectorFilter
from embeddings.index.edge import EdgeVectorIndex
from embeddings.sparse import SparseEncoder
from kg.embedding_stage import EmbeddingStage
from kg.errors import ConfigError
from kg.events.base import Event
from kg.events.memory import InProcessBus
from kg.feedback import FeedbackLog
from kg.model import Batch, Document, Entity, EntityKind, Relation, RelationKind, Validity
from kg.ranking import (
    GRAPH_SIGNALS,
    GraphAwareSearcher,
    RankingWeights,
    SearchContext,
    path_proximity,
)
from kg.stores.algorithms import pagerank
from kg.stores.sqlite import SqliteGraphStore

REPO = "r"
NOW = datetime(2024, 6, 1, tzinfo=UTC)
QUERY = "parse config"
# name -> (path, extra words that shift the lexical scores apart)
FUNCS = {
    "core": ("src/lib/core.py", ""),
    "util": ("src/app/util.py", "config"),
    "main": ("src/app/main.py", "parse parse"),
    "other": ("docs/other.py", "config config parse"),
}
OFF = RankingWeights(centrality=0.0, proximity=0.0, recency=0.0, feedback=0.0)


def fn(name: str) -> Entity:
    path = FUNCS[name][0]
    return Entity.make(
        EntityKind.FUNCTION, REPO, f"{path}::{name}", name=name, path=path, language="python"
    )


def file_entity(path: str) -> Entity:
    return Entity.make(EntityKind.FILE, REPO, path, name=path, path=path, language="python")


def calls(src: str, dst: str) -> Relation:
    return Relation(RelationKind.CALLS, fn(src).id, fn(dst).id, owner="test")


def commit(sha: str, days_ago: int, path: str) -> tuple[Entity, Relation]:
    c = Entity.make(EntityKind.COMMIT, REPO, sha, name=sha)
    when = Validity(from_commit=sha, from_time=NOW - timedelta(days=days_ago))
    return c, Relation(RelationKind.MODIFIES, c.id, file_entity(path).id, owner="git", valid=when)


@dataclass
class World:
    store: SqliteGraphStore
    index: EdgeVectorIndex
    bus: InProcessBus

    def searcher(self, weights: RankingWeights, **kw: object) -> GraphAwareSearcher:
        base = HybridSearcher(self.index, None, SparseEncoder())
        return GraphAwareSearcher(
            base,
            self.store,
            feedback=FeedbackLog(self.store),
            weights=weights,
            bus=self.bus,
            clock=lambda: NOW,
            **kw,  # type: ignore[arg-type]
        )


@pytest_asyncio.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    store = SqliteGraphStore(tmp_path / "graph.db")
    await store.start()
    bus = InProcessBus()
    await bus.start()
    batch = Batch(REPO)
    for name, (path, extra) in FUNCS.items():
        batch.entities += [fn(name), file_entity(path)]
        text = f"def {name}_parse_config():\n    '''Parse the config {extra}'''"
        batch.documents.append(
            Document(fn(name).id, REPO, EntityKind.FUNCTION, text, {"path": path, "name": name})
        )
    # core is called by everyone: the most central function.
    batch.relations += [calls("main", "core"), calls("util", "core"), calls("other", "core")]
    for sha, age, path in (("new", 1, "src/app/util.py"), ("old", 400, "docs/other.py")):
        c, rel = commit(sha, age, path)
        batch.entities.append(c)
        batch.relations.append(rel)
    await store.apply(batch)
    index = EdgeVectorIndex(tmp_path / "vectors")
    stage = EmbeddingStage(index, None, SparseEncoder())
    await stage.start()
    await stage.process(batch.documents, [])
    yield World(store, index, bus)
    await index.close()
    await bus.close()
    await store.close()


def names(hits: list[SearchHit]) -> list[str]:
    by_id = {fn(n).id: n for n in FUNCS}
    return [by_id[h.id] for h in hits]


def values(hits: list[SearchHit], signal: str) -> dict[str, float]:
    """``{function name: the signal's value}`` (0 when the signal found nothing for it)."""
    return {
        n: next(s.score or 0.0 for s in h.signals if s.signal == signal)
        for n, h in zip(names(hits), hits, strict=True)
    }


def graph_part(hit: SearchHit, signal: str) -> float:
    return next(s.contribution for s in hit.signals if s.signal == signal)


def check_explained(hits: list[SearchHit], weights: RankingWeights) -> None:
    for h in hits:
        assert h.score == pytest.approx(sum(s.contribution for s in h.signals))
        graph = [s for s in h.signals if s.signal in GRAPH_SIGNALS]
        for s in graph:
            assert s.weight == weights.of(s.signal)
            assert (s.rank is None) == (not s.score)


async def test_every_signal_is_explained_and_sums_to_the_score(world: World) -> None:
    weights = RankingWeights(centrality=0.3, proximity=0.3, recency=0.3, feedback=0.5)
    searcher = world.searcher(weights)
    await FeedbackLog(world.store).record(
        query=QUERY, repo=REPO, node_id=fn("util").id, useful=True
    )
    hits = await searcher.search(QUERY, context=SearchContext(path="src/app/main.py"))
    assert set(names(hits)) == set(FUNCS)
    check_explained(hits, weights)
    assert [s.signal for s in hits[0].signals] == ["lexical", *GRAPH_SIGNALS]
    assert hits == sorted(hits, key=lambda h: -h.score)
    await searcher.close()


async def test_feedback_moves_a_hit_up_and_down(world: World) -> None:
    searcher = world.searcher(RankingWeights(centrality=0, proximity=0, recency=0, feedback=1))
    before = names(await searcher.search(QUERY))
    last, first = before[-1], before[0]
    log = FeedbackLog(world.store)
    await log.record(query="config PARSE", repo=REPO, node_id=fn(last).id, useful=True)
    await log.record(query=QUERY, repo=REPO, node_id=fn(first).id, useful=False)
    after = names(await searcher.search(QUERY))
    assert after[0] == last
    assert after[-1] == first
    await searcher.close()


async def test_centrality_is_log_scaled_pagerank_cached_until_a_graph_delta(
    world: World,
) -> None:
    searcher = world.searcher(RankingWeights(centrality=1, proximity=0, recency=0, feedback=0))
    hits = await searcher.search(QUERY)
    value = values(hits, "centrality")
    assert value["core"] == pytest.approx(1.0)
    assert names(hits)[0] == "core"
    ranks = await pagerank(world.store, REPO)
    assert value["main"] < 1.0
    assert ranks[fn("main").id] < ranks[fn("core").id]
    # The graph changes: main becomes the hub. The cache holds until the delta arrives.
    await world.store.apply(
        Batch(
            REPO, relations=[calls("core", "main"), calls("util", "main"), calls("other", "main")]
        )
    )
    assert names(await searcher.search(QUERY))[0] == "core"
    await world.bus.publish(Event.of("graph.delta", repo=REPO, payload={"repo": REPO}))
    for _ in range(50):
        await asyncio.sleep(0.01)
        if names(await searcher.search(QUERY))[0] == "main":
            break
    assert names(await searcher.search(QUERY))[0] == "main"
    await searcher.close()


async def test_proximity_to_the_open_file_and_to_an_entity(world: World) -> None:
    weights = RankingWeights(centrality=0, proximity=1, recency=0, feedback=0)
    searcher = world.searcher(weights)
    by_path = await searcher.search(QUERY, context=SearchContext(path="src/app/main.py"))
    prox = {
        n: graph_part(h, "proximity") / max(h.score for h in by_path)
        for n, h in zip(names(by_path), by_path, strict=True)
    }
    assert names(by_path)[0] == "main"
    assert prox["util"] > prox["core"] > prox["other"]
    by_entity = await searcher.search(QUERY, context=SearchContext(entity_id=fn("core").id))
    value = values(by_entity, "proximity")
    assert value["core"] == 1.0
    assert value["main"] == value["util"] == value["other"] == 0.5  # one CALLS hop away
    assert names(by_entity)[0] == "core"
    await searcher.close()


def test_path_proximity() -> None:
    assert path_proximity("src/a/x.py", "src/a/x.py") == 1.0
    assert path_proximity("src/a/x.py", "src/a/y.py") == 0.5
    assert path_proximity("src/a/x.py", "src/b/y.py") == 0.125
    assert path_proximity("x.py", "src/a/y.py") == 0.125


async def test_recency_prefers_recently_modified_files(world: World) -> None:
    searcher = world.searcher(RankingWeights(centrality=0, proximity=0, recency=1, feedback=0))
    hits = await searcher.search(QUERY)
    value = values(hits, "recency")
    assert value["util"] == pytest.approx(0.5 ** (1 / 180))
    assert value["other"] == pytest.approx(0.5 ** (400 / 180))
    assert value["core"] == value["main"] == 0.0
    assert names(hits)[0] == "util"
    await searcher.close()


async def test_filters_reach_the_index_and_limits_hold(world: World) -> None:
    searcher = world.searcher(RankingWeights())
    hits = await searcher.search(QUERY, filter=VectorFilter(path_prefix="src/app"), limit=5)
    assert set(names(hits)) == {"main", "util"}
    assert len(await searcher.search(QUERY, limit=2)) == 2
    assert await searcher.search(QUERY, limit=0) == []
    plain = await world.searcher(OFF).search(QUERY)
    base = await HybridSearcher(world.index, None, SparseEncoder()).search(QUERY)
    assert [h.id for h in plain] == [h.id for h in base]
    assert [h.score for h in plain] == pytest.approx([h.score for h in base])


def test_bad_weights_are_refused(tmp_path: Path) -> None:
    base = HybridSearcher(EdgeVectorIndex(tmp_path), None, SparseEncoder())
    store = SqliteGraphStore(tmp_path / "g.db")
    with pytest.raises(ConfigError, match="weights >= 0"):
        GraphAwareSearcher(base, store, weights=RankingWeights(feedback=-1))
    with pytest.raises(ConfigError, match="half_life"):
        GraphAwareSearcher(base, store, weights=RankingWeights(recency_half_life_days=0))
