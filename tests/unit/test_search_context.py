"""``search(context:)`` over GraphQL: the open file pulls nearby hits up, and says so.

Real SQLite graph, real Qdrant edge index (lexical signal: no model needed), the real graph
re-ranker and the real ASGI app.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from api.app import create_app
from embeddings.hybrid import HybridSearcher
from embeddings.index.edge import EdgeVectorIndex
from embeddings.sparse import SparseEncoder
from kg.embedding_stage import EmbeddingStage
from kg.events.memory import InProcessBus
from kg.model import Batch, Document, Entity, EntityKind, Relation, RelationKind
from kg.ranking import GraphAwareSearcher, RankingWeights
from kg.service import GraphService
from kg.settings import Settings
from kg.stores.sqlite import SqliteGraphStore

REPO = "ctx"
# name -> (path, words that make its lexical score differ)
FUNCS = {
    "load_settings": ("app/config/loader.py", "config"),
    "read_config": ("tools/legacy/reader.py", "config config read read"),
    "parse_args": ("app/cli.py", ""),
}
QUERY = "read config"
SEARCH = """query($q: String!, $ctx: ID) {
  search(query: $q, context: $ctx, first: 3) {
    edges { score node { id } explanation { signal rank score weight contribution } }
  }
}"""


def file_of(path: str) -> Entity:
    return Entity.make(EntityKind.FILE, REPO, path, name=path, path=path, language="python")


def function(name: str) -> Entity:
    path = FUNCS[name][0]
    return Entity.make(
        EntityKind.FUNCTION, REPO, f"{path}::{name}", name=name, path=path, language="python"
    )


@pytest_asyncio.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    store = SqliteGraphStore(tmp_path / "graph.db")
    await store.start()
    bus = InProcessBus()
    await bus.start()
    batch = Batch(REPO)
    for name, (path, words) in FUNCS.items():
        f, fn = file_of(path), function(name)
        batch.entities += [f, fn]
        batch.relations.append(Relation(RelationKind.DEFINES, f.id, fn.id, owner="test"))
        text = f"def {name}():\n    '''Read the config {words}'''"
        batch.documents.append(
            Document(fn.id, REPO, EntityKind.FUNCTION, text, {"path": path, "name": name})
        )
    await store.apply(batch)
    index = EdgeVectorIndex(tmp_path / "vectors")
    stage = EmbeddingStage(index, None, SparseEncoder())
    await stage.start()
    await stage.process(batch.documents, [])
    weights = RankingWeights(centrality=0, proximity=1.0, recency=0, feedback=0)
    searcher = GraphAwareSearcher(
        HybridSearcher(index, None, SparseEncoder()), store, weights=weights, bus=bus
    )
    service = GraphService(store, searcher, bus)
    app = create_app(Settings(_env_file=None), service)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://kg.test"
    ) as c:
        yield c
    await searcher.close()
    await index.close()
    await bus.close()
    await store.close()


async def search(client: httpx.AsyncClient, ctx: str | None) -> dict[str, Any]:
    r = await client.post("/graphql", json={"query": SEARCH, "variables": {"q": QUERY, "ctx": ctx}})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def ranked(body: dict[str, Any]) -> list[str]:
    names = {function(n).id: n for n in FUNCS}
    return [names[e["node"]["id"]] for e in body["data"]["search"]["edges"]]


def proximity(edge: dict[str, Any]) -> dict[str, Any]:
    [part] = [s for s in edge["explanation"] if s["signal"] == "proximity"]
    return part


async def test_the_open_file_pulls_its_functions_up_and_explains_why(
    client: httpx.AsyncClient,
) -> None:
    alone = await search(client, None)
    assert ranked(alone)[0] == "read_config"  # the most matching words
    signals = {s["signal"] for e in alone["data"]["search"]["edges"] for s in e["explanation"]}
    assert "proximity" not in signals  # no context, no proximity signal

    here = file_of("app/config/loader.py").id
    near = await search(client, here)
    assert "errors" not in near, near["errors"]
    edges = near["data"]["search"]["edges"]
    assert ranked(near)[0] == "load_settings"
    top = proximity(edges[0])
    assert top["score"] == 1.0 and top["rank"] == 1 and top["weight"] == 1.0
    # halving per directory step: app/cli.py is one step from app/config/, tools/legacy/ four
    by_name = dict(zip(ranked(near), edges, strict=True))
    assert proximity(by_name["parse_args"])["score"] == 0.25
    assert proximity(by_name["read_config"])["score"] == 0.5**5
    for e in edges:
        assert e["score"] == pytest.approx(sum(s["contribution"] for s in e["explanation"]))


async def test_a_symbol_as_context_counts_graph_hops(client: httpx.AsyncClient) -> None:
    body = await search(client, function("parse_args").id)
    edges = body["data"]["search"]["edges"]
    assert ranked(body)[0] == "parse_args"
    assert proximity(edges[0])["score"] == 1.0


async def test_an_unknown_or_malformed_context_is_a_clear_error(
    client: httpx.AsyncClient,
) -> None:
    gone = file_of("app/nowhere.py").id
    body = await search(client, gone)
    assert body["data"] is None
    assert "is not a node of the graph" in body["errors"][0]["message"]
    body = await search(client, "not-an-id")
    assert "is not a node id" in body["errors"][0]["message"]
