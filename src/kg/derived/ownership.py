"""Who knows a file or a symbol: its change history (across renames), owners and churn.

Read-side functions over the store (no writes)::

    changes = await symbol_history(store, fid)            # newest first, across renames
    ranked = await owners(store, fid, half_life_days=180)  # [Owner(person, score, ...)]
    c = await churn(store, fid)

Ownership is recency-weighted authored lines: each change counts ``added + removed`` lines
times ``0.5 ** (age / half_life)``, where age is measured back from ``now`` (default: the newest
change of the target, so results do not depend on when the query runs).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from kg.model import Entity, EntityKind, Relation, RelationKind
from kg.stores.base import GraphStore

MIN_RENAME_CONFIDENCE = 0.5


@dataclass(frozen=True, slots=True)
class Change:
    """One commit's change to the target (or to one of its former names: ``target``)."""

    commit: Entity
    target: str
    change: str
    added: int
    removed: int
    time: datetime | None
    confidence: float  # product of the rename confidences linking ``target`` to the asked one


@dataclass(frozen=True, slots=True)
class Owner:
    person: Entity
    score: float
    lines: int
    commits: int
    last: datetime | None


@dataclass(frozen=True, slots=True)
class Churn:
    commits: int
    added: int
    removed: int
    first: datetime | None
    last: datetime | None


def _time(commit: Entity) -> datetime | None:
    raw = commit.attrs.get("committer_time")
    if isinstance(raw, str):
        try:
            return datetime.fromisoformat(raw)
        except ValueError:
            return None
    return commit.valid.from_time


async def lineage(store: GraphStore, target: str, depth: int = 20) -> dict[str, float]:
    """The target and its former identities (RENAMED_TO followed backwards), each with the
    product of rename confidences along the way; weak evidence (< 0.5) is not followed."""
    found = {target: 1.0}
    frontier = [target]
    for _ in range(depth):
        if not frontier:
            break
        edges = await store.neighbors(frontier, [RelationKind.RENAMED_TO], "in")
        nxt: list[str] = []
        for dst, nbs in edges.items():
            for nb in nbs:
                conf = found[dst] * nb.relation.confidence
                src = nb.entity.id
                if nb.relation.confidence >= MIN_RENAME_CONFIDENCE and conf > found.get(src, 0):
                    found[src] = conf
                    nxt.append(src)
        frontier = nxt
    return found


async def symbol_history(store: GraphStore, target: str) -> list[Change]:
    """Every commit that modified ``target`` or what it was renamed from, newest first."""
    names = await lineage(store, target)
    edges = await store.neighbors(sorted(names), [RelationKind.MODIFIES], "in")
    out: list[Change] = []
    for tid, nbs in edges.items():
        for nb in nbs:
            if nb.entity.kind is EntityKind.COMMIT:
                out.append(_change(nb.entity, tid, nb.relation, names[tid]))
    epoch = datetime.min.replace(tzinfo=UTC)
    out.sort(key=lambda c: (c.time or epoch, c.commit.key), reverse=True)
    return out


def _change(commit: Entity, target: str, rel: Relation, conf: float) -> Change:
    def num(key: str) -> int:
        v = rel.attrs.get(key)
        return v if isinstance(v, int) else 0

    return Change(
        commit=commit,
        target=target,
        change=str(rel.attrs.get("change", "M")),
        added=num("added"),
        removed=num("removed"),
        time=_time(commit),
        confidence=conf,
    )


async def owners(
    store: GraphStore,
    target: str,
    *,
    half_life_days: float = 365.0,
    now: datetime | None = None,
    limit: int = 10,
) -> list[Owner]:
    """People ranked by recency-weighted lines they changed in ``target`` (and former names)."""
    changes = await symbol_history(store, target)
    if not changes:
        return []
    authors = await store.neighbors(
        sorted({c.commit.id for c in changes}), [RelationKind.AUTHORED], "in"
    )
    ref = now or max((c.time for c in changes if c.time is not None), default=None)
    score: dict[str, float] = defaultdict(float)
    lines: dict[str, int] = defaultdict(int)
    commits: dict[str, set[str]] = defaultdict(set)
    last: dict[str, datetime | None] = {}
    people: dict[str, Entity] = {}
    for c in changes:
        for nb in authors.get(c.commit.id, []):
            pid = nb.entity.id
            people[pid] = nb.entity
            n = max(c.added + c.removed, 1)
            age = (ref - c.time).total_seconds() / 86400 if ref and c.time else 0.0
            score[pid] += n * c.confidence * 0.5 ** (max(age, 0.0) / half_life_days)
            lines[pid] += c.added + c.removed
            commits[pid].add(c.commit.id)
            prev = last.get(pid)
            if c.time is not None and (prev is None or c.time > prev):
                last[pid] = c.time
    ranked = sorted(score, key=lambda p: (-score[p], p))[:limit]
    return [
        Owner(people[p], round(score[p], 4), lines[p], len(commits[p]), last.get(p)) for p in ranked
    ]


async def churn(store: GraphStore, target: str) -> Churn:
    """How much ``target`` (and its former names) changed, and over which period."""
    changes = await symbol_history(store, target)
    times = [c.time for c in changes if c.time is not None]
    return Churn(
        commits=len({c.commit.id for c in changes}),
        added=sum(c.added for c in changes),
        removed=sum(c.removed for c in changes),
        first=min(times, default=None),
        last=max(times, default=None),
    )
