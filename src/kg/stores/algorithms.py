"""Graph algorithms over any GraphStore, computed with networkx from ``store.relations``.

They work the same on every backend because they only use the Protocol::

    ranks = await pagerank(store, "codekg")            # {entity id: score}, scores sum to 1
    top = sorted(ranks, key=ranks.__getitem__, reverse=True)[:10]

Only entities with at least one relation of the asked kinds appear in the results. The networkx
work runs in a worker thread so the event loop stays responsive on large graphs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import networkx as nx

from kg.model import Direction, Relation, RelationKind
from kg.stores.base import GraphStore

STRUCTURAL_KINDS: tuple[RelationKind, ...] = (
    RelationKind.CALLS,
    RelationKind.IMPORTS,
    RelationKind.INHERITS,
)


def _digraph(relations: Sequence[Relation]) -> nx.DiGraph:
    """A weighted digraph; parallel edges of different kinds add their confidences.

    Nodes and edges are inserted in sorted order so results never depend on store order.
    """
    weights: dict[tuple[str, str], float] = {}
    for r in relations:
        weights[(r.src, r.dst)] = weights.get((r.src, r.dst), 0.0) + r.confidence
    graph = nx.DiGraph()
    graph.add_nodes_from(sorted({n for edge in weights for n in edge}))
    graph.add_weighted_edges_from((s, d, w) for (s, d), w in sorted(weights.items()))
    return graph


def _pagerank(relations: Sequence[Relation], alpha: float) -> dict[str, float]:
    graph = _digraph(relations)
    if graph.number_of_nodes() == 0:
        return {}
    ranks: dict[str, float] = nx.pagerank(graph, alpha=alpha, weight="weight", tol=1e-10)
    return dict(sorted(ranks.items()))


async def pagerank(
    store: GraphStore,
    repo: str,
    kinds: Sequence[RelationKind] = STRUCTURAL_KINDS,
    *,
    alpha: float = 0.85,
) -> dict[str, float]:
    """PageRank of a repository's entities along ``kinds``, weighted by edge confidence.

    Deterministic: the same graph always yields the same scores. Returns ``{}`` for a graph
    without such relations.
    """
    relations = await store.relations(repo, kinds)
    return await asyncio.to_thread(_pagerank, relations, alpha)


def _degree(relations: Sequence[Relation], direction: Direction | None) -> dict[str, float]:
    graph = _digraph(relations)
    if graph.number_of_nodes() == 0:
        return {}
    if direction == "in":
        scores: dict[str, float] = nx.in_degree_centrality(graph)
    elif direction == "out":
        scores = nx.out_degree_centrality(graph)
    else:
        scores = nx.degree_centrality(graph)
    return dict(sorted(scores.items()))


async def degree_centrality(
    store: GraphStore,
    repo: str,
    kinds: Sequence[RelationKind] = STRUCTURAL_KINDS,
    *,
    direction: Direction | None = None,
) -> dict[str, float]:
    """Degree centrality (degree / (n - 1)) along ``kinds``: ``"in"`` counts incoming edges
    (how depended-upon), ``"out"`` outgoing ones, ``None`` both."""
    relations = await store.relations(repo, kinds)
    return await asyncio.to_thread(_degree, relations, direction)
