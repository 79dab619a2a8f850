"""Fixtures for end-to-end API tests: a real graph store with a small handwritten graph.

``graph_store`` is parametrized over ``GRAPH_STORES`` (SQLite in a tmp dir, and the Neo4j test
service from ``KG_TEST_NEO4J_URL``: failing under CI=true when it is missing). The Neo4j
service is shared by everyone running tests, so nothing here wipes it: every test builds its
demo graph under its own repository name (``demo.name``) and deletes that repository's
entities afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from api_support import InstrumentedStore, http_client

from embeddings.base import Embedder
from embeddings.factory import open_embedder
from embeddings.hybrid import HybridSearcher
from embeddings.index.edge import EdgeVectorIndex
from embeddings.sparse import SparseEncoder
from kg.embedding_stage import EmbeddingStage
from kg.events.base import EventBus
from kg.events.memory import InProcessBus
from kg.model import (
    Batch,
    Document,
    Entity,
    EntityKind,
    Relation,
    RelationKind,
    Span,
    entity_id,
    file_scope,
)
from kg.service import GraphService, Searcher
from kg.stores.base import EntityQuery, GraphStore
from kg.stores.factory import open_graph_store

GEN_FUNCTIONS = 100


def _neo4j_url(tmp: Path) -> str:
    return os.environ["KG_TEST_NEO4J_URL"]


# name -> URL builder (tmp dir -> graph URL)
GRAPH_STORES: dict[str, Callable[[Path], str]] = {
    "sqlite": lambda tmp: f"sqlite:///{tmp}/graph.db",
    "neo4j": _neo4j_url,
}
# the root conftest turns these marks into "fail in CI / skip elsewhere" when the service is off
STORE_MARKS = {"neo4j": [pytest.mark.neo4j]}


@pytest.fixture
def repo_name() -> str:
    """A repository name no other test (or test run) uses."""
    return f"demo-{uuid.uuid4().hex[:10]}"


@pytest.fixture(
    params=[pytest.param(name, marks=STORE_MARKS.get(name, [])) for name in sorted(GRAPH_STORES)]
)
async def graph_store(
    request: pytest.FixtureRequest, tmp_path: Path, repo_name: str
) -> AsyncIterator[GraphStore]:
    store = open_graph_store(GRAPH_STORES[request.param](tmp_path))
    await store.start()
    try:
        yield store
    finally:
        try:
            await delete_repo(store, repo_name)
        finally:
            await store.close()


async def delete_repo(store: GraphStore, repo: str) -> None:
    """Remove every entity (and so every edge) of one repository."""
    while ids := [e.id for e in await store.find(EntityQuery(repo=repo, limit=1000))]:
        await store.apply(Batch(repo=repo, deletions=ids))


def _file(repo: str, path: str) -> Entity:
    return Entity.make(
        EntityKind.FILE,
        repo,
        path,
        name=path.rsplit("/", 1)[-1],
        path=path,
        language="python",
        owner=file_scope(repo, path),
    )


def _module(repo: str, path: str) -> Entity:
    dotted = path.removesuffix(".py").replace("/", ".")
    return Entity.make(
        EntityKind.MODULE,
        repo,
        dotted,
        name=dotted,
        path=path,
        language="python",
        owner=file_scope(repo, path),
        attrs={"qualname": dotted},
    )


def _symbol(repo: str, path: str, qual: str, line: int, **attrs: str) -> Entity:
    kind = EntityKind.CLASS if qual[0].isupper() and "." not in qual else EntityKind.FUNCTION
    return Entity.make(
        kind,
        repo,
        f"{path}::{qual}",
        name=qual.rsplit(".", 1)[-1],
        path=path,
        span=Span(line, line + 3),
        language="python",
        owner=file_scope(repo, path),
        attrs={"qualname": qual, **attrs},
    )


def _commit(repo: str, sha: str, summary: str, when: str, author: str) -> Entity:
    return Entity.make(
        EntityKind.COMMIT,
        repo,
        sha,
        name=sha[:12],
        attrs={
            "sha": sha,
            "summary": summary,
            "message": f"{summary}\n\nbody",
            "committer_time": when,
            "author_name": author,
        },
    )


def _person(repo: str, name: str) -> Entity:
    email = f"{name.lower()}@example.com"
    return Entity.make(EntityKind.PERSON, repo, email, name=name, attrs={"email": email})


class Demo:
    """The demo graph under repository ``name``: ids by short name, plus the batch."""

    def __init__(self, name: str, root: str = "/x") -> None:
        self.name = name
        r = name
        self.repo = Entity.make(EntityKind.REPOSITORY, r, "", name=r, attrs={"root": root})
        paths = ("pkg/util.py", "pkg/app.py", "pkg/cli.py", "gen.py")
        self.files = {p: _file(r, p) for p in paths}
        self.modules = {p: _module(r, p) for p in self.files}

        def _fn(path: str, qual: str, line: int, **attrs: str) -> Entity:
            return _symbol(r, path, qual, line, **attrs)

        self.slugify = _fn(
            "pkg/util.py",
            "slugify",
            4,
            signature="(text: str) -> str",
            docstring="Turn a title into a url slug.",
        )
        self.page = _fn("pkg/app.py", "Page", 4, docstring="A web page.")
        self.url = _fn("pkg/app.py", "Page.url", 5, signature="(self) -> str")
        self.title = _fn("pkg/app.py", "Page.title", 8, signature="(self) -> str")
        self.main = _fn("pkg/cli.py", "main", 3, signature="() -> None")
        self.special = _fn("pkg/app.py", "SpecialPage", 20, docstring="A page with extras.")
        self.config = Entity.make(
            EntityKind.VARIABLE,
            r,
            "pkg/util.py::CONFIG",
            name="CONFIG",
            path="pkg/util.py",
            span=Span(1, 1),
            owner=file_scope(r, "pkg/util.py"),
            attrs={"qualname": "CONFIG"},
        )
        self.gen = [_fn("gen.py", f"gen_{i:03d}", 10 + 5 * i) for i in range(GEN_FUNCTIONS)]
        self.commit = _commit(r, "a" * 40, "first", "2024-05-01T12:00:00+00:00", "Ada")
        self.commit2 = _commit(r, "b" * 40, "url with slugs", "2024-06-01T12:00:00+00:00", "Bob")
        self.commit3 = _commit(r, "c" * 40, "page title", "2024-07-01T12:00:00+00:00", "Bob")
        self.ada = _person(r, "Ada")
        self.bob = _person(r, "Bob")
        self.issue = Entity.make(
            EntityKind.ISSUE,
            r,
            "issue:7",
            name="#7",
            attrs={
                "number": 7,
                "title": "Slugs break on unicode titles",
                "state": "closed",
                "body": "slugify() drops accented letters",
                "url": "https://example.invalid/issues/7",
                "author": "carol",
                "createdAt": "2024-05-20T09:00:00+00:00",
            },
        )
        self.pr = Entity.make(
            EntityKind.PULL_REQUEST,
            r,
            "pr:8",
            name="#8",
            attrs={"number": 8, "title": "Fix unicode slugs", "state": "merged", "author": "bob"},
        )
        self.comment = Entity.make(
            EntityKind.COMMENT,
            r,
            "comment:8:1",
            name="comment",
            attrs={"body": "Looks good; see Page.url too", "author": "ada"},
        )
        self.insight = Entity.make(
            EntityKind.INSIGHT,
            r,
            "hotspot:pkg/app.py",
            name="pkg/app.py is a hotspot",
            attrs={
                "rule": "hotspot",
                "severity": "warning",
                "title": "pkg/app.py is a hotspot",
                "explanation": "changed in 2 of 3 commits",
                "entity_ids": [self.files["pkg/app.py"].id],
                "numbers": '{"commits": 2}',
                "paths": ["pkg/app.py"],
                "time": "2024-07-02T00:00:00+00:00",
            },
        )

    def symbols(self) -> list[Entity]:
        return [
            self.slugify,
            self.page,
            self.url,
            self.title,
            self.main,
            self.special,
            self.config,
            *self.gen,
        ]

    def discussions(self) -> list[Entity]:
        return [self.issue, self.pr, self.comment]

    def batch(self) -> Batch:
        f = self.files
        rel = _rel
        m = self.modules
        # the code extractor's shape: File CONTAINS Module DEFINES Class DEFINES method
        relations = [rel(RelationKind.CONTAINS, f[p], m[p]) for p in f]
        relations += [
            rel(RelationKind.DEFINES, m["pkg/util.py"], self.slugify),
            rel(RelationKind.DEFINES, m["pkg/app.py"], self.page),
            rel(RelationKind.DEFINES, self.page, self.url),
            rel(RelationKind.DEFINES, self.page, self.title),
            rel(RelationKind.DEFINES, m["pkg/cli.py"], self.main),
            rel(RelationKind.IMPORTS, m["pkg/app.py"], m["pkg/util.py"], 1.0, "code:import"),
            rel(RelationKind.IMPORTS, m["pkg/cli.py"], m["pkg/app.py"], 1.0, "code:import"),
            rel(RelationKind.CALLS, self.main, self.url, 0.9, "code:name-match"),
            rel(RelationKind.CALLS, self.main, self.page, 1.0, "code:import-resolved"),
            rel(RelationKind.CALLS, self.url, self.slugify, 1.0, "code:import-resolved"),
            rel(RelationKind.CALLS, self.url, self.title, 0.8, "code:self-method"),
            rel(RelationKind.DEFINES, m["pkg/app.py"], self.special),
            rel(RelationKind.DEFINES, m["pkg/util.py"], self.config),
            rel(RelationKind.INHERITS, self.special, self.page, 1.0, "code:import-resolved"),
            rel(RelationKind.REFERENCES, self.slugify, self.config, 1.0, "code:name-match"),
            rel(RelationKind.AUTHORED, self.ada, self.commit, 1.0, "git:log"),
            rel(RelationKind.AUTHORED, self.bob, self.commit2, 1.0, "git:log"),
            rel(RelationKind.AUTHORED, self.bob, self.commit3, 1.0, "git:log"),
            rel(RelationKind.PARENT_OF, self.commit, self.commit2, 1.0, "git:log"),
            rel(RelationKind.PARENT_OF, self.commit2, self.commit3, 1.0, "git:log"),
            _mod(self.commit, f["pkg/util.py"], "added", 10, 0),
            _mod(self.commit2, f["pkg/app.py"], "modified", 4, 1),
            _mod(self.commit2, self.url, "modified", 4, 1),
            _mod(self.commit3, f["pkg/app.py"], "modified", 2, 2),
            _mod(self.commit3, f["pkg/util.py"], "modified", 1, 0),
            Relation(
                kind=RelationKind.CO_CHANGES,
                src=f["pkg/app.py"].id,
                dst=f["pkg/util.py"].id,
                confidence=0.5,
                provenance="git:co-change",
                attrs={"weight": 1},
            ),
            rel(RelationKind.MENTIONS, self.issue, self.slugify, 0.9, "discussion:code-ref"),
            rel(RelationKind.MENTIONS, self.comment, self.url, 0.8, "discussion:code-ref"),
            rel(RelationKind.CLOSES, self.pr, self.issue, 1.0, "discussion:closes"),
            rel(RelationKind.COMMENTS_ON, self.comment, self.pr, 1.0, "discussion:thread"),
        ]
        for i, g in enumerate(self.gen):
            relations.append(rel(RelationKind.DEFINES, m["gen.py"], g))
            relations.append(rel(RelationKind.CALLS, g, self.slugify, 0.5, "code:name-match"))
            if i:
                relations.append(rel(RelationKind.CALLS, g, self.gen[i - 1], 1.0, "code:local"))
        entities = [
            self.repo,
            *f.values(),
            *m.values(),
            *self.symbols(),
            self.commit,
            self.commit2,
            self.commit3,
            self.ada,
            self.bob,
            *self.discussions(),
            self.insight,
        ]
        return Batch(repo=self.name, entities=entities, relations=relations, documents=self.docs())

    def docs(self) -> list[Document]:
        texts = [
            (self.slugify, "def slugify(text): turn a title into a url slug, lower case, dashes"),
            (self.page, "class Page: a web page with a title and a url"),
            (self.main, "def main(): print the url of the home page on the command line"),
        ]
        return [
            Document(
                entity_id=e.id,
                repo=self.name,
                kind=e.kind,
                text=t,
                payload={"path": e.path or "", "language": "python", "name": e.name},
            )
            for e, t in texts
        ]


def _mod(commit: Entity, target: Entity, change: str, added: int, removed: int) -> Relation:
    return Relation(
        kind=RelationKind.MODIFIES,
        src=commit.id,
        dst=target.id,
        provenance="git:log",
        attrs={"change": change, "added": added, "removed": removed},
    )


def _rel(
    kind: RelationKind, src: Entity, dst: Entity, conf: float = 1.0, prov: str = "code:ast"
) -> Relation:
    return Relation(kind=kind, src=src.id, dst=dst.id, confidence=conf, provenance=prov)


@pytest.fixture
def demo(repo_name: str) -> Demo:
    return Demo(repo_name)


@pytest.fixture
async def demo_store(graph_store: GraphStore, demo: Demo) -> GraphStore:
    await graph_store.apply(demo.batch())
    return graph_store


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return open_embedder("all-MiniLM-L6-v2")


@pytest.fixture
async def bus() -> AsyncIterator[EventBus]:
    b = InProcessBus()
    await b.start()
    yield b
    await b.close()


@pytest.fixture
async def searcher(tmp_path: Path, embedder: Embedder, demo: Demo) -> AsyncIterator[HybridSearcher]:
    index = EdgeVectorIndex(tmp_path / "vectors")
    sparse = SparseEncoder()
    stage = EmbeddingStage(index, embedder, sparse)
    await stage.start()
    ghost = Document(
        entity_id=entity_id(EntityKind.FUNCTION, demo.name, "gone.py::slug"),
        repo=demo.name,
        kind=EntityKind.FUNCTION,
        text="def slug(): url slug of a title (deleted function)",
        payload={"path": "gone.py", "language": "python", "name": "slug"},
    )
    await stage.process([*demo.docs(), ghost], [])
    yield HybridSearcher(index, embedder, sparse)
    await index.close()


@pytest.fixture
def store(demo_store: GraphStore) -> InstrumentedStore:
    return InstrumentedStore(demo_store)


@pytest.fixture
async def client(store: InstrumentedStore, bus: EventBus) -> AsyncIterator[httpx.AsyncClient]:
    """The API without search (most tests: no model, no vector index needed)."""
    async with http_client(GraphService(store, None, bus)) as c:
        yield c


@pytest.fixture
async def search_client(
    store: InstrumentedStore, searcher: Searcher, bus: EventBus
) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(GraphService(store, searcher, bus)) as c:
        yield c
