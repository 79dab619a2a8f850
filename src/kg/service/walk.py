"""Graph walks the service runs over ``GraphStore.neighbors``: one store call per BFS level.

``reach_groups`` walks from many groups of start entities at once (a DataLoader batch of
``callers(depth: 3)``, or an ``impact`` whose start set is a class and its methods), keeping one
best hop per reached entity and group. ``shortest_path`` finds one shortest directed (or
undirected) path between two entities, with the relation of every step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kg.model import Direction, Entity, Neighbor, Relation, RelationKind
from kg.stores.base import GraphStore

MAX_FRONTIER = 5000  # a path search stops widening past this many entities per level


@dataclass(frozen=True, slots=True)
class Hop:
    """An entity reached from one start entity: ``relation`` is the last edge of the path."""

    entity: Entity
    depth: int
    confidence: float
    relation: Relation
    path: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Step:
    """One edge of a path, oriented the way it was walked (``relation`` keeps its own)."""

    source: str
    target: str
    relation: Relation


@dataclass(frozen=True, slots=True)
class GraphPath:
    """A path of entities ``nodes[0] -> ... -> nodes[-1]`` and the steps between them."""

    nodes: list[Entity]
    steps: list[Step]

    @property
    def confidence(self) -> float:
        product = 1.0
        for step in self.steps:
            product *= step.relation.confidence
        return product


async def reach_groups(
    store: GraphStore,
    groups: Mapping[str, Sequence[str]],
    kinds: Sequence[RelationKind],
    direction: Direction,
    depth: int,
    limit: int,
) -> dict[str, list[Hop]]:
    """Breadth-first reach from each group of start ids separately, ``depth`` store calls.

    Per group: each entity once at its smallest depth, the start ids excluded, ordered by
    (depth, id); among equally short paths the most confident one wins. Only current (not
    superseded) relations are followed; at most ``limit`` entities are kept per group.
    """
    frontier: dict[str, dict[str, Hop | None]] = {
        g: dict.fromkeys(starts) for g, starts in groups.items()
    }
    seen: dict[str, dict[str, Hop | None]] = {g: dict(f) for g, f in frontier.items()}
    for level in range(1, depth + 1):
        asked = sorted({eid for f in frontier.values() for eid in f})
        if not asked:
            break
        edges = await store.neighbors(asked, kinds, direction)
        frontier = {g: _expand(f, edges, seen[g], level, limit) for g, f in frontier.items()}
    return {
        g: sorted(
            (h for h in reached.values() if h is not None), key=lambda h: (h.depth, h.entity.id)
        )
        for g, reached in seen.items()
    }


def _expand(
    frontier: dict[str, Hop | None],
    edges: dict[str, list[Neighbor]],
    seen: dict[str, Hop | None],
    level: int,
    limit: int,
) -> dict[str, Hop | None]:
    """One BFS level for one group: the best new hop to every newly reached entity."""
    starts = sum(1 for h in seen.values() if h is None)
    best: dict[str, Hop] = {}
    for eid, via in frontier.items():
        conf = 1.0 if via is None else via.confidence
        path = (eid,) if via is None else via.path
        for nb in edges.get(eid, []):
            target = nb.entity.id
            if target in seen or not nb.relation.valid.is_current:
                continue
            hop = Hop(nb.entity, level, conf * nb.relation.confidence, nb.relation, (*path, target))
            old = best.get(target)
            if old is None or (hop.confidence, old.path) > (old.confidence, hop.path):
                best[target] = hop
    room = max(0, limit - (len(seen) - starts))
    chosen = dict(sorted(best.items())[:room])
    seen.update(chosen)
    return dict(chosen)


async def shortest_path(
    store: GraphStore,
    source: Entity,
    target: Entity,
    kinds: Sequence[RelationKind],
    max_depth: int,
    *,
    directed: bool = True,
) -> GraphPath | None:
    """One shortest path from ``source`` to ``target`` (ties broken by id), or None.

    Directed: along relations as stored. Undirected: each relation may be walked backwards too.
    """
    if source.id == target.id:
        return GraphPath(nodes=[source], steps=[])
    parents: dict[str, tuple[str, Neighbor] | None] = {source.id: None}
    frontier = [source.id]
    directions: list[Direction] = ["out"] if directed else ["out", "in"]
    for _ in range(max_depth):
        found: dict[str, tuple[str, Neighbor]] = {}
        for direction in directions:
            edges = await store.neighbors(frontier, kinds, direction)
            for eid in frontier:
                for nb in sorted(edges.get(eid, []), key=lambda n: n.entity.id):
                    other = nb.entity.id
                    if other not in parents and other not in found and nb.relation.valid.is_current:
                        found[other] = (eid, nb)
        if not found:
            return None
        parents.update(found)
        if target.id in found:
            return _unwind(parents, source, target.id)
        frontier = sorted(found)[:MAX_FRONTIER]
    return None


def _unwind(parents: dict[str, tuple[str, Neighbor] | None], source: Entity, end: str) -> GraphPath:
    nodes: list[Entity] = []
    steps: list[Step] = []
    current = end
    while (link := parents[current]) is not None:
        prev, nb = link
        nodes.append(nb.entity)
        steps.append(Step(source=prev, target=current, relation=nb.relation))
        current = prev
    nodes.append(source)
    return GraphPath(nodes=nodes[::-1], steps=steps[::-1])
