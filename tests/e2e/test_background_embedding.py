"""Background embedding end to end: the graph is served while the real model is held back.

The embedder is the packaged MiniLM behind a gate the test opens: while it is shut the
background task is inside ``embed``, so whatever the test sees then is what a user sees while
vectors catch up. Real SQLite, real Qdrant edge, real tree-sitter over real files.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

import pytest
from api_support import data_of, http_client

from embeddings.base import Embedder, TextRole
from embeddings.index.edge import EdgeVectorIndex
from embeddings.sparse import SparseEncoder
from kg.embedding_stage import EmbeddingFailed, EmbeddingStage
from kg.events.schema import IngestProgress
from kg.model import Document, EntityKind
from kg.runtime import Runtime, open_runtime
from kg.service import GraphService
from kg.service.jobs import INGEST_PROGRESS
from kg.settings import Settings
from kg.stores.base import EntityQuery

FILES = {
    "shop/__init__.py": "",
    "shop/money.py": (
        '"""Prices."""\n\n\ndef add_vat(amount: float, rate: float = 0.2) -> float:\n'
        '    """Add value added tax to a net price."""\n    return amount * (1 + rate)\n'
    ),
    "shop/cart.py": (
        "from shop.money import add_vat\n\n\nclass Cart:\n"
        '    """A basket of items a customer wants to buy."""\n\n'
        "    def __init__(self) -> None:\n        self.items: list[float] = []\n\n"
        "    def total(self) -> float:\n        return add_vat(sum(self.items))\n"
    ),
}
WAIT = 60.0  # seconds a gate may stay shut before a test gives up (a hang, not a timing check)


class GatedEmbedder:
    """A real embedder whose document embedding waits until the test opens the gate."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.embedded: list[str] = []
        self.fail = False

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed(self, texts: Sequence[str], *, role: TextRole = "document") -> list[list[float]]:
        if role == "document":
            self.entered.set()
            if not self.gate.wait(WAIT):
                raise TimeoutError("the test never opened the embedding gate")
            if self.fail:
                raise RuntimeError("model crashed")
            self.embedded.extend(texts)
        return self.inner.embed(texts, role=role)


def write_repo(root: Path) -> Path:
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def settings_in(tmp: Path) -> Settings:
    return Settings(
        graph_url=f"sqlite:///{tmp}/graph.db", vector_url=f"edge:///{tmp}/vec", history=False
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return write_repo(tmp_path / "shop")


@pytest.fixture
async def rt(tmp_path: Path) -> AsyncIterator[Runtime]:
    async with open_runtime(settings_in(tmp_path / "bg")) as runtime:
        assert runtime.embedder is not None
        runtime.embedder = gate = GatedEmbedder(runtime.embedder)
        yield runtime
        gate.gate.set()  # a failed test must not leave a worker thread parked in the model


def gated(rt: Runtime) -> GatedEmbedder:
    assert isinstance(rt.embedder, GatedEmbedder)
    return rt.embedder


async def entered(embedder: GatedEmbedder) -> None:
    assert await asyncio.to_thread(embedder.entered.wait, WAIT), "embedding never started"


async def until(condition: Callable[[], bool]) -> None:
    """Wait for ``condition`` (a hang guard, not a timing check)."""
    for _ in range(int(WAIT * 100)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition never held")


async def job_reaches(service: GraphService, job_id: str, stage: str) -> None:
    await until(lambda: service.job(job_id).stage == stage)


SEARCH = """query($q: String!, $mode: SearchMode!) {
  search(query: $q, mode: $mode, first: 5) {
    edges { vectorPending node { id ... on Function { name } } }
  }
}"""
GRAPH = """{ repository(name: "shop") {
  symbols(name: "add_vat") { edges { node { id ... on Function { name } } } }
} }"""


async def test_graph_is_served_while_vectors_catch_up(rt: Runtime, repo: Path) -> None:
    service = rt.service()
    events = rt.bus.subscribe([INGEST_PROGRESS])
    async with http_client(service) as client:
        job = await service.ingest(str(repo))
        await entered(gated(rt))

        # the model is stuck: the graph answers, the job is still running
        found = await rt.store.find(EntityQuery(kinds=[EntityKind.FUNCTION], name="add_vat"))
        assert [e.name for e in found] == ["add_vat"]
        graph = await data_of(client, GRAPH)
        edges = graph["repository"]["symbols"]["edges"]
        assert [e["node"]["name"] for e in edges] == ["add_vat"]
        assert not service.job(job.id).finished
        # lexical search already finds the new function, marked as waiting for its vector
        lexical = await data_of(client, SEARCH, q="add vat tax", mode="LEXICAL")
        top = lexical["search"]["edges"][0]
        assert top["node"]["id"] == found[0].id and top["vectorPending"] is True
        semantic = await data_of(client, SEARCH, q="value added tax on a price", mode="SEMANTIC")
        assert semantic["search"]["edges"] == []
        status = rt.background_embedding().status()  # type: ignore[union-attr]
        assert status.done == 0 and status.total > 0 and status.pending == status.total
        await job_reaches(service, job.id, "embedding")  # the graph part of the job is over

        gated(rt).gate.set()
        progress = []
        async for event in events:
            p = IngestProgress.model_validate(event.payload)
            progress.append((p.stage, p.done, p.total, p.state))
            if p.state in ("succeeded", "failed"):
                break
        assert progress[-1][3] == "succeeded"
        embedding = [(d, t) for stage, d, t, _ in progress if stage == "embedding"]
        assert embedding[0] == (0, status.total) and embedding[-1] == (status.total, status.total)

        semantic = await data_of(client, SEARCH, q="value added tax on a price", mode="SEMANTIC")
        top = semantic["search"]["edges"][0]
        assert top["node"]["id"] == found[0].id and top["vectorPending"] is False
    await service.close()


async def test_vectors_converge_to_the_synchronous_path(
    rt: Runtime, repo: Path, tmp_path: Path
) -> None:
    gated(rt).gate.set()
    background = await rt.indexer(background=True).index(repo)
    await rt.wait_for_vectors()
    async with open_runtime(settings_in(tmp_path / "sync")) as sync:
        synchronous = await sync.indexer().index(repo)
        assert background.embedded == synchronous.embedded > 0
        ids = [e.id for e in await sync.store.find(EntityQuery(limit=1000))]
        assert sync.index is not None and rt.index is not None
        assert await rt.index.hashes(ids) == await sync.index.hashes(ids)
        assert await rt.index.count() == await sync.index.count()
        for query in ("value added tax", "basket of items", "shop cart total"):
            for mode in ("semantic", "lexical"):
                a = await rt.searcher().search(query, mode=mode)  # type: ignore[union-attr]
                b = await sync.searcher().search(query, mode=mode)  # type: ignore[union-attr]
                assert [h.id for h in a] == [h.id for h in b]
                assert [h.score for h in a] == pytest.approx([h.score for h in b], abs=1e-5)
                assert not any(h.pending for h in a)
    # unchanged content is not embedded again, in the background either
    again = await rt.indexer(background=True).index(repo)
    await rt.wait_for_vectors()
    assert again.embedded == 0


def doc(name: str, text: str) -> Document:
    return Document(f"Function:{name}", "r", EntityKind.FUNCTION, text, {"path": f"{name}.py"})


@pytest.fixture
async def stage(tmp_path: Path, embedder: Embedder) -> AsyncIterator[EmbeddingStage]:
    index = EdgeVectorIndex(tmp_path / "vectors")
    s = EmbeddingStage(
        index, GatedEmbedder(embedder), SparseEncoder(), background=True, queue_limit=3
    )
    await s.start()
    yield s
    gate_of(s).gate.set()
    await s.close()
    await index.close()


def gate_of(stage: EmbeddingStage) -> GatedEmbedder:
    embedder = stage._embedder  # the fixture's own wrapper
    assert isinstance(embedder, GatedEmbedder)
    return embedder


async def test_queue_coalesces_per_entity_and_deletes_win(stage: EmbeddingStage) -> None:
    gate = gate_of(stage)
    index = stage._index
    await stage.process([doc("a", "def a(): first")], [])
    await entered(gate)  # "a" is being embedded now
    await stage.process([doc("b", "def b(): old"), doc("c", "def c(): keep")], [])
    await stage.process([doc("b", "def b(): new")], [])  # replaces the queued text
    await stage.process([], ["Function:a", "Function:c"])  # one in flight, one queued
    assert stage.status().total == 2  # a and b: the second b adds no work, c is gone
    gate.gate.set()
    status = await stage.wait()
    assert status.pending == 0 and status.done == status.total
    assert gate.embedded == ["def a(): first", "def b(): new"]
    assert await index.hashes(["Function:a", "Function:b", "Function:c"]) == {
        "Function:b": doc("b", "def b(): new").hash
    }


async def test_queue_is_bounded(stage: EmbeddingStage) -> None:
    gate = gate_of(stage)
    await stage.process([doc("x", "def x(): held")], [])
    await entered(gate)
    more = [doc(n, f"def {n}(): queued") for n in "pqrs"]
    producer = asyncio.create_task(stage.process(more, []))
    await until(lambda: stage.status().pending == 4)  # x in flight, p q r queued
    # the queue holds 3: s waits for room, and no room comes while the model is held
    assert not producer.done()
    gate.gate.set()
    assert await producer == 4
    await stage.wait()
    assert stage.status().embedded == 5


async def test_a_failing_model_is_reported_and_leaves_lexical_points(
    stage: EmbeddingStage,
) -> None:
    gate = gate_of(stage)
    gate.fail = True
    gate.gate.set()
    zebra = "def zebra_stripes(): pass"
    await stage.process([doc("z", zebra)], [])
    with pytest.raises(EmbeddingFailed, match="model crashed"):
        await stage.wait()
    index = stage._index
    assert await index.hashes(["Function:z"]) == {"Function:z": ""}  # re-embedded next run
    hits = await index.search("lexical", SparseEncoder().encode_query("zebra stripes"), limit=3)
    assert [h.id for h in hits] == ["Function:z"]
    gate.fail = False
    assert await stage.process([doc("z", zebra)], []) == 1
    await stage.wait()
    assert await index.hashes(["Function:z"]) == {"Function:z": doc("z", zebra).hash}


async def test_closing_releases_a_waiter(stage: EmbeddingStage) -> None:
    gate = gate_of(stage)
    await stage.process([doc("w", "def w(): waits")], [])
    await entered(gate)
    waiter = asyncio.create_task(stage.wait())
    await stage.close()  # shutdown while the model is held: the waiter is told, not stuck
    with pytest.raises(EmbeddingFailed, match="closed with 1 document"):
        await waiter
    with pytest.raises(EmbeddingFailed, match="closed"):
        await stage.process([doc("v", "def v(): late")], [])
