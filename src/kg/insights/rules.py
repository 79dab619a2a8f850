"""The insight rules: each looks at one change (a graph delta with its context) and returns
findings with a severity, evidence (entity ids and numbers) and a one-line explanation.

Rules only read the store; the engine de-duplicates, stores and publishes what they find.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from kg.events.schema import Evidence, Severity
from kg.insights.stats import Deviation, deviation, severity_for
from kg.model import Entity, EntityKind, Neighbor, RelationKind, entity_id
from kg.stores.base import EntityQuery, GraphStore


@dataclass(frozen=True, slots=True)
class InsightConfig:
    dedup_window: float = 600.0  # seconds one (entity, rule) stays quiet after firing
    batch_window: float = 0.1  # non-critical insights are published together this often
    hotspot_score: float = 30.0  # churn x complexity worth a warning (x4: critical)
    blast_callers: int = 10  # transitive callers worth a warning (x5: critical)
    blast_depth: int = 3
    co_change_commits: int = 3  # shared commits that make two files partners
    co_change_confidence: float = 0.3
    owner_share: float = 0.8  # share of a file's commits that makes one person its expert
    owner_min_commits: int = 3
    inactive_days: float = 180.0
    sigma: float = 3.0  # k of the k-sigma anomaly rules (2k: critical)
    min_peers: int = 10
    max_subjects: int = 50  # symbols/files examined per change


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    subject: str  # the entity the finding is about (dedup key with the rule)
    severity: Severity
    title: str
    explanation: str
    evidence: Evidence
    paths: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Change:
    repo: str
    edited: list[Entity]  # symbols added, or whose content changed
    files: list[Entity]  # files touched by the change
    commits: list[Entity]  # commits the change added
    paths: set[str]
    now: datetime
    before: Mapping[str, Entity] = field(default_factory=dict)  # symbols before the change
    discussions: list[Entity] = field(default_factory=list)  # issues, PRs, comments changed


Rule = Callable[[GraphStore, Change, InsightConfig], Awaitable[list[Finding]]]


def _num(value: object, default: float = 0.0) -> float:
    return (
        float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default
    )


def _label(e: Entity) -> str:
    qual = e.attrs.get("qualname")
    return qual if isinstance(qual, str) else e.name


async def hotspot(store: GraphStore, change: Change, cfg: InsightConfig) -> list[Finding]:
    """Complexity rose in a function of a file that changes often (churn = commits)."""
    funcs = [e for e in change.edited if e.kind is EntityKind.FUNCTION and e.path]
    rising: list[tuple[Entity, float]] = []
    for f in funcs:
        old = change.before.get(f.id)
        previous = _num(old.attrs.get("complexity"), math.inf) if old is not None else math.inf
        if _num(f.attrs.get("complexity")) > previous:
            rising.append((f, previous))
    if not rising:
        return []
    file_ids = {f.id: entity_id(EntityKind.FILE, change.repo, f.path or "") for f, _ in rising}
    touches = await store.neighbors(sorted(set(file_ids.values())), [RelationKind.MODIFIES], "in")
    out: list[Finding] = []
    for f, previous in rising:
        churn = len(touches.get(file_ids[f.id], []))
        complexity = _num(f.attrs.get("complexity"))
        score = churn * complexity
        if score < cfg.hotspot_score:
            continue
        critical = score >= 4 * cfg.hotspot_score
        out.append(
            Finding(
                "hotspot",
                f.id,
                "critical" if critical else "warning",
                f"Hotspot: {_label(f)} grew more complex",
                f"complexity {int(previous)} -> {int(complexity)} in a file changed by "
                f"{churn} commits (churn x complexity = {score:.0f})",
                Evidence(
                    entity_ids=[f.id, file_ids[f.id]],
                    numbers={
                        "complexity": complexity,
                        "previous_complexity": previous,
                        "churn": float(churn),
                        "score": score,
                    },
                ),
                [f.path or ""],
            )
        )
    return out


async def blast_radius(store: GraphStore, change: Change, cfg: InsightConfig) -> list[Finding]:
    """A changed function that many others reach through calls."""
    out: list[Finding] = []
    for f in [e for e in change.edited if e.kind is EntityKind.FUNCTION][: cfg.max_subjects]:
        reached = await store.traverse([f.id], [RelationKind.CALLS], "in", cfg.blast_depth, 2000)
        if len(reached) < cfg.blast_callers:
            continue
        direct = sum(1 for r in reached if r.depth == 1)
        critical = len(reached) >= 5 * cfg.blast_callers
        out.append(
            Finding(
                "blast-radius",
                f.id,
                "critical" if critical else "warning",
                f"Wide blast radius: {_label(f)}",
                f"{len(reached)} functions call {_label(f)} within {cfg.blast_depth} hops "
                f"({direct} directly); check them before merging",
                Evidence(
                    entity_ids=[f.id, *[r.entity.id for r in reached[:10]]],
                    numbers={
                        "callers": float(len(reached)),
                        "direct_callers": float(direct),
                        "depth": float(cfg.blast_depth),
                    },
                ),
                sorted({r.entity.path for r in reached[:10] if r.entity.path}),
            )
        )
    return out


def _weight(n: Neighbor) -> float:
    return _num(n.relation.attrs.get("weight"), n.relation.confidence)


async def co_change(store: GraphStore, change: Change, cfg: InsightConfig) -> list[Finding]:
    """A file that usually changes with this one was left out of the change."""
    files = change.files[: cfg.max_subjects]
    if not files:
        return []
    ids = [f.id for f in files]
    partners: dict[str, dict[str, Neighbor]] = {i: {} for i in ids}
    for direction in ("out", "in"):  # stored once per pair: both directions count
        for fid, ns in (await store.neighbors(ids, [RelationKind.CO_CHANGES], direction)).items():
            for n in ns:
                partners[fid].setdefault(n.entity.id, n)
    out: list[Finding] = []
    for f in files:
        for n in partners[f.id].values():
            other = n.entity
            shared = _weight(n)
            if other.path in change.paths or other.path is None:
                continue
            if shared < cfg.co_change_commits or n.relation.confidence < cfg.co_change_confidence:
                continue
            out.append(
                Finding(
                    "co-change",
                    f"{f.id}>{other.id}",
                    "info",
                    f"{other.path} usually changes with {f.path}",
                    f"{other.path} changed together with {f.path} in {shared:.0f} commits "
                    f"(confidence {n.relation.confidence:.2f}) but is not part of this change",
                    Evidence(
                        entity_ids=[f.id, other.id],
                        numbers={"shared_commits": shared, "confidence": n.relation.confidence},
                    ),
                    [f.path or "", other.path],
                )
            )
    return out


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


async def ownership(store: GraphStore, change: Change, cfg: InsightConfig) -> list[Finding]:
    """The file's only expert (most of its commits) has been inactive for a long time."""
    files = change.files[: cfg.max_subjects]
    if not files:
        return []
    touches = await store.neighbors([f.id for f in files], [RelationKind.MODIFIES], "in")
    out: list[Finding] = []
    for f in files:
        commits = [n.entity for n in touches.get(f.id, []) if n.entity.kind is EntityKind.COMMIT]
        authors = Counter(str(c.attrs.get("author_email", "")).lower() for c in commits)
        if len(commits) < cfg.owner_min_commits or not authors:
            continue
        email, count = authors.most_common(1)[0]
        share = count / len(commits)
        if not email or share < cfg.owner_share:
            continue
        person = entity_id(EntityKind.PERSON, change.repo, email)
        theirs = (await store.neighbors([person], [RelationKind.AUTHORED], "out"))[person]
        times = [t for n in theirs if (t := _time(n.entity.attrs.get("committer_time")))]
        if not times:
            continue
        idle = (change.now - max(times)).total_seconds() / 86400
        if idle < cfg.inactive_days:
            continue
        out.append(
            Finding(
                "ownership-risk",
                f.id,
                "warning",
                f"Only expert of {f.path} is inactive",
                f"{email} made {count} of {len(commits)} commits to {f.path} "
                f"({share:.0%}) but has not committed for {idle:.0f} days",
                Evidence(
                    entity_ids=[f.id, person],
                    numbers={"share": share, "commits": float(len(commits)), "days_inactive": idle},
                ),
                [f.path or ""],
            )
        )
    return out


def _size(c: Entity) -> tuple[float, float]:
    lines = _num(c.attrs.get("insertions")) + _num(c.attrs.get("deletions"))
    return lines, _num(c.attrs.get("files_changed"))


async def anomalies(store: GraphStore, change: Change, cfg: InsightConfig) -> list[Finding]:
    """k-sigma outliers among peer commits: size (lines, files) and per-file churn."""
    if not change.commits:
        return []
    new = {c.id for c in change.commits}
    peers = [
        c
        for c in await store.find(
            EntityQuery(repo=change.repo, kinds=[EntityKind.COMMIT], limit=1000)
        )
        if c.id not in new and not c.attrs.get("is_merge")
    ]
    if len(peers) < cfg.min_peers:
        return []
    sizes = [_size(c) for c in peers]
    out: list[Finding] = []
    for c in change.commits[: cfg.max_subjects]:
        lines, files = _size(c)
        for metric, value, sample in (
            ("lines", lines, [s[0] for s in sizes]),
            ("files", files, [s[1] for s in sizes]),
        ):
            dev = deviation(value, sample, cfg.sigma, min_peers=cfg.min_peers)
            if dev is not None:
                out.append(_anomaly(c, f"commit-{metric}", metric, value, dev, cfg))
    out += await _churn_anomalies(store, change, cfg)
    return out


def _anomaly(
    c: Entity, rule: str, metric: str, value: float, dev: Deviation, cfg: InsightConfig
) -> Finding:
    return Finding(
        f"anomaly:{rule}",
        c.id,
        severity_for(dev.z, cfg.sigma),
        f"Unusually large commit ({metric})",
        f"{c.name} changes {value:.0f} {metric}, {dev.z:.1f} sigma above its peers "
        f"(typical {dev.typical:.0f})",
        Evidence(
            entity_ids=[c.id],
            numbers={
                "value": value,
                "z": dev.z,
                "mean_log": dev.mean,
                "std_log": dev.std,
                "peers": float(dev.peers),
            },
        ),
    )


async def _churn_anomalies(store: GraphStore, change: Change, cfg: InsightConfig) -> list[Finding]:
    new = {c.id for c in change.commits}
    files = change.files[: cfg.max_subjects]
    history = await store.neighbors([f.id for f in files], [RelationKind.MODIFIES], "in")
    out: list[Finding] = []
    for f in files:
        mine = [n for n in history.get(f.id, []) if n.entity.id in new]
        past = [n for n in history.get(f.id, []) if n.entity.id not in new]
        sample = [
            _num(n.relation.attrs.get("added")) + _num(n.relation.attrs.get("removed"))
            for n in past
        ]
        for n in mine:
            churn = _num(n.relation.attrs.get("added")) + _num(n.relation.attrs.get("removed"))
            dev = deviation(churn, sample, cfg.sigma, min_peers=cfg.min_peers)
            if dev is None:
                continue
            out.append(
                Finding(
                    "anomaly:file-churn",
                    f"{n.entity.id}>{f.id}",
                    severity_for(dev.z, cfg.sigma),
                    f"Unusual churn in {f.path}",
                    f"{n.entity.name} changes {churn:.0f} lines of {f.path}, "
                    f"{dev.z:.1f} sigma above its {dev.peers} earlier changes "
                    f"(typical {dev.typical:.0f})",
                    Evidence(
                        entity_ids=[n.entity.id, f.id],
                        numbers={"value": churn, "z": dev.z, "peers": float(dev.peers)},
                    ),
                    [f.path or ""],
                )
            )
    return out


async def open_discussions(store: GraphStore, change: Change, cfg: InsightConfig) -> list[Finding]:
    """Open issues or pull requests that mention an edited symbol."""
    subjects = change.edited[: cfg.max_subjects]
    if not subjects:
        return []
    mentions = await store.neighbors([s.id for s in subjects], [RelationKind.MENTIONS], "in")
    out: list[Finding] = []
    for s in subjects:
        open_ = [
            n.entity
            for n in mentions.get(s.id, [])
            if n.entity.kind in (EntityKind.ISSUE, EntityKind.PULL_REQUEST)
            and str(n.entity.attrs.get("state", "")).lower() == "open"
        ]
        if not open_:
            continue
        names = ", ".join(d.name for d in open_[:5])
        out.append(
            Finding(
                "open-discussion",
                s.id,
                "info",
                f"{_label(s)} is discussed in {len(open_)} open thread(s)",
                f"open discussions mention {_label(s)}: {names}",
                Evidence(
                    entity_ids=[s.id, *[d.id for d in open_[:10]]],
                    numbers={"open": float(len(open_))},
                ),
                [s.path or ""],
            )
        )
    return out


RULES: Sequence[Rule] = (hotspot, blast_radius, co_change, ownership, anomalies, open_discussions)
