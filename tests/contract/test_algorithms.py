"""Graph algorithms give the same answers on every GraphStore, and the answers networkx gives.

One seeded, code-shaped graph (CALLS with skewed fan-in, IMPORTS, INHERITS, REFERENCES, parallel
edges of different kinds, a second repository, an edge to a missing entity) is loaded into each
store; every algorithm of ``kg.stores.algorithms`` must match networkx run directly on the
relations we wrote, within 1e-9, and the stores must match each other.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path

import networkx as nx
import pytest

from kg.model import Batch, Entity, EntityKind, Relation, RelationKind
from kg.stores.algorithms import STRUCTURAL_KINDS, degree_centrality, pagerank
from kg.stores.base import GraphStore

from .conftest import GRAPH_STORE_FACTORIES

REPO = "algo-contract"
OTHER = "algo-contract-other"
TOLERANCE = 1e-9

Algorithm = Callable[[GraphStore], Awaitable[dict[str, float]]]


def batches() -> tuple[list[Batch], list[Relation]]:
    """The batches to apply, and the relations of REPO that end up stored."""
    rng = random.Random(20240611)
    funcs = [
        Entity.make(EntityKind.FUNCTION, REPO, f"m{i // 10}.py::f{i}", name=f"f{i}")
        for i in range(120)
    ]
    files = [Entity.make(EntityKind.FILE, REPO, f"m{i}.py", name=f"m{i}.py") for i in range(12)]
    stored: dict[str, Relation] = {}

    def edge(kind: RelationKind, src: Entity, dst: Entity) -> None:
        if src.id != dst.id:
            conf = rng.choice((1.0, 0.9, 0.5, 0.25, round(rng.random(), 6)))
            rel = Relation(kind, src.id, dst.id, conf, "test:synthetic")
            stored[rel.id] = rel

    for f in funcs:
        for _ in range(rng.randint(0, 5)):
            # Skewed fan-in: low indexes are called far more often.
            edge(RelationKind.CALLS, f, funcs[int(len(funcs) * rng.random() ** 3)])
        if rng.random() < 0.15:
            edge(RelationKind.REFERENCES, f, rng.choice(funcs))
    for f in files:
        for _ in range(3):
            edge(RelationKind.IMPORTS, f, rng.choice(files))
    for a, b in zip(funcs[:30:3], funcs[1:30:3], strict=True):
        edge(RelationKind.INHERITS, a, b)
        edge(RelationKind.CALLS, a, b)  # parallel edge of another kind: weights add
    ghost = Entity.make(EntityKind.FUNCTION, REPO, "gone.py::ghost", name="ghost")
    dangling = Relation(RelationKind.CALLS, funcs[0].id, ghost.id)  # dropped by the store
    other = [Entity.make(EntityKind.FUNCTION, OTHER, f"o.py::g{i}", name=f"g{i}") for i in range(5)]
    other_rels = [Relation(RelationKind.CALLS, a.id, b.id) for a, b in itertools.pairwise(other)]
    main = Batch(REPO, [*funcs, *files], [*stored.values(), dangling])
    return [main, Batch(OTHER, other, other_rels)], list(stored.values())


def reference_graph(relations: list[Relation], kinds: tuple[RelationKind, ...]) -> nx.DiGraph:
    """The weighted digraph the algorithms are defined on, built here independently."""
    graph = nx.DiGraph()
    for r in relations:
        if r.kind in kinds:
            w = graph.get_edge_data(r.src, r.dst, {"weight": 0.0})["weight"]
            graph.add_edge(r.src, r.dst, weight=w + r.confidence)
    return graph


CALLS_ONLY = (RelationKind.CALLS,)
CASES: dict[
    str, tuple[Algorithm, Callable[[nx.DiGraph], dict[str, float]], tuple[RelationKind, ...]]
] = {
    "pagerank": (
        lambda s: pagerank(s, REPO),
        lambda g: nx.pagerank(g, alpha=0.85, weight="weight", tol=1e-10),
        STRUCTURAL_KINDS,
    ),
    "pagerank-calls-alpha-0.6": (
        lambda s: pagerank(s, REPO, CALLS_ONLY, alpha=0.6),
        lambda g: nx.pagerank(g, alpha=0.6, weight="weight", tol=1e-10),
        CALLS_ONLY,
    ),
    "degree": (lambda s: degree_centrality(s, REPO), nx.degree_centrality, STRUCTURAL_KINDS),
    "in-degree": (
        lambda s: degree_centrality(s, REPO, direction="in"),
        nx.in_degree_centrality,
        STRUCTURAL_KINDS,
    ),
    "out-degree-all-kinds": (
        lambda s: degree_centrality(s, REPO, tuple(RelationKind), direction="out"),
        nx.out_degree_centrality,
        tuple(RelationKind),
    ),
}


def assert_close(got: dict[str, float], want: dict[str, float]) -> None:
    assert got.keys() == want.keys()
    worst = max(abs(got[k] - want[k]) for k in want)
    assert worst <= TOLERANCE, f"largest difference {worst:.3g}"


@pytest.mark.parametrize("case", list(CASES))
async def test_algorithm_matches_networkx(graph_store: GraphStore, case: str) -> None:
    applied, relations = batches()
    for batch in applied:
        await graph_store.apply(batch)
    algorithm, reference, kinds = CASES[case]
    want = reference(reference_graph(relations, kinds))
    assert len(want) > 50  # the graph is not trivially small
    assert_close(await algorithm(graph_store), want)


async def test_an_empty_repository_has_no_scores(graph_store: GraphStore) -> None:
    assert await pagerank(graph_store, "no-such-repo") == {}
    assert await degree_centrality(graph_store, "no-such-repo") == {}


@pytest.mark.neo4j
async def test_every_store_gives_the_same_answers(tmp_path: Path) -> None:
    applied, _ = batches()
    results: dict[str, dict[str, dict[str, float]]] = {}
    async with AsyncExitStack() as stack:
        for backend in GRAPH_STORE_FACTORIES:
            (tmp_path / backend.name).mkdir()
            store = await stack.enter_async_context(backend.factory(tmp_path / backend.name))
            for batch in applied:
                await store.apply(batch)
            results[backend.name] = {name: await c[0](store) for name, c in CASES.items()}
    first, *others = results.values()
    assert len(results) >= 2
    for other in others:
        for name in CASES:
            assert_close(other[name], first[name])
