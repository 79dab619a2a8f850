"""Fixtures for end-to-end API tests: a real graph store with a small handwritten graph.

``graph_store`` is parametrized over ``GRAPH_STORES``; adding Neo4j there (with its URL from
the test services) runs every API test on it unchanged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from kg.model import (
    Batch,
    Document,
    Entity,
    EntityKind,
    Relation,
    RelationKind,
    Span,
    file_scope,
)
from kg.stores.base import GraphStore
from kg.stores.factory import open_graph_store

REPO = "demo"
GEN_FUNCTIONS = 100

# name -> URL builder (tmp dir -> graph URL)
GRAPH_STORES: dict[str, Callable[[Path], str]] = {
    "sqlite": lambda tmp: f"sqlite:///{tmp}/graph.db",
}


@pytest.fixture(params=sorted(GRAPH_STORES))
async def graph_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[GraphStore]:
    store = open_graph_store(GRAPH_STORES[request.param](tmp_path))
    await store.start()
    try:
        yield store
    finally:
        await store.close()


def _file(path: str) -> Entity:
    return Entity.make(
        EntityKind.FILE,
        REPO,
        path,
        name=path.rsplit("/", 1)[-1],
        path=path,
        language="python",
        owner=file_scope(REPO, path),
    )


def _module(path: str) -> Entity:
    dotted = path.removesuffix(".py").replace("/", ".")
    return Entity.make(
        EntityKind.MODULE,
        REPO,
        dotted,
        name=dotted,
        path=path,
        language="python",
        owner=file_scope(REPO, path),
        attrs={"qualname": dotted},
    )


def _fn(path: str, qual: str, line: int, **attrs: str) -> Entity:
    kind = EntityKind.CLASS if qual[0].isupper() and "." not in qual else EntityKind.FUNCTION
    return Entity.make(
        kind,
        REPO,
        f"{path}::{qual}",
        name=qual.rsplit(".", 1)[-1],
        path=path,
        span=Span(line, line + 3),
        language="python",
        owner=file_scope(REPO, path),
        attrs={"qualname": qual, **attrs},
    )


class Demo:
    """The demo graph: ids by short name, plus the batch that builds it."""

    def __init__(self) -> None:
        self.repo = Entity.make(EntityKind.REPOSITORY, REPO, "", name=REPO, attrs={"root": "/x"})
        self.files = {p: _file(p) for p in ("pkg/util.py", "pkg/app.py", "pkg/cli.py", "gen.py")}
        self.modules = {p: _module(p) for p in self.files}
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
        self.gen = [_fn("gen.py", f"gen_{i:03d}", 10 + 5 * i) for i in range(GEN_FUNCTIONS)]
        self.commit = Entity.make(
            EntityKind.COMMIT,
            REPO,
            "a" * 40,
            name="a" * 12,
            attrs={
                "sha": "a" * 40,
                "summary": "first",
                "message": "first\n\nbody",
                "committer_time": "2024-05-01T12:00:00+00:00",
            },
        )
        self.ada = Entity.make(
            EntityKind.PERSON,
            REPO,
            "ada@example.com",
            name="Ada",
            attrs={"email": "ada@example.com"},
        )

    def symbols(self) -> list[Entity]:
        return [self.slugify, self.page, self.url, self.title, self.main, *self.gen]

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
            rel(RelationKind.AUTHORED, self.ada, self.commit, 1.0, "git:log"),
            rel(RelationKind.MODIFIES, self.commit, f["pkg/util.py"], 1.0, "git:log"),
        ]
        for i, g in enumerate(self.gen):
            relations.append(rel(RelationKind.DEFINES, m["gen.py"], g))
            relations.append(rel(RelationKind.CALLS, g, self.slugify, 0.5, "code:name-match"))
            if i:
                relations.append(rel(RelationKind.CALLS, g, self.gen[i - 1], 1.0, "code:local"))
        entities = [self.repo, *f.values(), *m.values(), *self.symbols(), self.commit, self.ada]
        return Batch(repo=REPO, entities=entities, relations=relations, documents=self.docs())

    def docs(self) -> list[Document]:
        texts = [
            (self.slugify, "def slugify(text): turn a title into a url slug, lower case, dashes"),
            (self.page, "class Page: a web page with a title and a url"),
            (self.main, "def main(): print the url of the home page on the command line"),
        ]
        return [
            Document(
                entity_id=e.id,
                repo=REPO,
                kind=e.kind,
                text=t,
                payload={"path": e.path or "", "language": "python", "name": e.name},
            )
            for e, t in texts
        ]


def _rel(
    kind: RelationKind, src: Entity, dst: Entity, conf: float = 1.0, prov: str = "code:ast"
) -> Relation:
    return Relation(kind=kind, src=src.id, dst=dst.id, confidence=conf, provenance=prov)


@pytest.fixture
def demo() -> Demo:
    return Demo()


@pytest.fixture
async def demo_store(graph_store: GraphStore, demo: Demo) -> GraphStore:
    await graph_store.apply(demo.batch())
    return graph_store
