"""Review latency: how long a pull request waited for its first review, against its peers.

Latency is from the pull request's ``createdAt`` to the earliest review or review comment by
someone other than its author (``Comment`` entities of type ``review``/``review-comment`` that
COMMENTS_ON it). Peers are the repository's other reviewed pull requests; the comparison is
the log-scale k-sigma of ``stats.deviation`` (waits are heavy-tailed: an hour and a day are
both ordinary), and the severity grows with the deviation (k: warning, 2k: critical).

A pull request in the change that was just reviewed is judged on its actual wait; one still
waiting for a review is judged on its age so far (a lower bound: it only fires once the wait
is already unusual).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from kg.events.schema import Evidence
from kg.insights.rules import Change, Finding, InsightConfig
from kg.insights.stats import Deviation, deviation, severity_for
from kg.model import Entity, EntityKind, Neighbor, RelationKind
from kg.stores.base import EntityQuery, GraphStore

REVIEW_TYPES = ("review", "review-comment")
MAX_PEERS = 1000


def _time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def first_review(pr: Entity, on_it: Iterable[Neighbor]) -> tuple[Entity, datetime] | None:
    """The earliest review of ``pr`` by someone other than its author, with its time."""
    author = pr.attrs.get("author")
    reviews = [
        (n.entity, when)
        for n in on_it
        if n.entity.attrs.get("type") in REVIEW_TYPES
        and n.entity.attrs.get("author") != author
        and (when := _time(n.entity.attrs.get("createdAt"))) is not None
    ]
    return min(reviews, key=lambda r: r[1]) if reviews else None


def hours_between(start: datetime, end: datetime) -> float:
    return max(0.0, (end - start).total_seconds() / 3600)


async def _subjects(store: GraphStore, change: Change) -> list[str]:
    """Pull requests the change touched: directly, or through a review of them."""
    prs = [e.id for e in change.discussions if e.kind is EntityKind.PULL_REQUEST]
    reviews = [e.id for e in change.discussions if e.attrs.get("type") in REVIEW_TYPES]
    if reviews:
        parents = await store.neighbors(reviews, [RelationKind.COMMENTS_ON], "out")
        prs += [
            n.entity.id
            for ns in parents.values()
            for n in ns
            if n.entity.kind is EntityKind.PULL_REQUEST
        ]
    return list(dict.fromkeys(prs))


async def review_latency(store: GraphStore, change: Change, cfg: InsightConfig) -> list[Finding]:
    """k-sigma outliers among peer pull requests: hours until the first review."""
    subjects = (await _subjects(store, change))[: cfg.max_subjects]
    if not subjects:
        return []
    prs = await store.find(
        EntityQuery(repo=change.repo, kinds=[EntityKind.PULL_REQUEST], limit=MAX_PEERS)
    )
    by_id = {p.id: p for p in prs}
    for extra in await store.get([s for s in subjects if s not in by_id]):
        if extra is not None:
            by_id[extra.id] = extra
    on = await store.neighbors(list(by_id), [RelationKind.COMMENTS_ON], "in")
    waits: dict[str, tuple[float, Entity | None]] = {}
    for pr in by_id.values():
        opened = _time(pr.attrs.get("createdAt"))
        if opened is None:
            continue
        first = first_review(pr, on.get(pr.id, []))
        if first is not None:
            waits[pr.id] = (hours_between(opened, first[1]), first[0])
        elif str(pr.attrs.get("state", "")).lower() == "open":
            waits[pr.id] = (hours_between(opened, change.now), None)  # still waiting
    out: list[Finding] = []
    for sid in subjects:
        if sid not in waits:
            continue
        hours, review = waits[sid]
        sample = [h for pid, (h, r) in waits.items() if pid != sid and r is not None]
        dev = deviation(hours, sample, cfg.sigma, min_peers=cfg.min_peers)
        if dev is not None:
            out.append(_finding(by_id[sid], hours, review, dev, cfg))
    return out


def _finding(
    pr: Entity, hours: float, review: Entity | None, dev: Deviation, cfg: InsightConfig
) -> Finding:
    typical = dev.typical
    waiting = review is None
    title = (
        f"{pr.name} is still waiting for a first review"
        if waiting
        else f"{pr.name} waited unusually long for its first review"
    )
    what = "has waited" if waiting else "waited"
    ids: Sequence[str] = [pr.id] if review is None else [pr.id, review.id]
    return Finding(
        "anomaly:review-latency",
        pr.id,
        severity_for(dev.z, cfg.sigma),
        title,
        f"{pr.name} {what} {_span(hours)} for a first review, {dev.z:.1f} sigma above its "
        f"{dev.peers} reviewed peers (typical {_span(typical)})",
        Evidence(
            entity_ids=list(ids),
            numbers={
                "hours": round(hours, 3),
                "typical_hours": round(typical, 3),
                "z": round(dev.z, 3),
                "peers": float(dev.peers),
                "mean_log": dev.mean,
                "std_log": dev.std,
                "waiting": 1.0 if waiting else 0.0,
            },
        ),
    )


def _span(hours: float) -> str:
    if hours >= 48:
        return f"{hours / 24:.1f} days"
    if hours >= 1:
        return f"{hours:.1f} h"
    return f"{hours * 60:.0f} min"
