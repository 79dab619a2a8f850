"""Co-change coupling: files (and symbols) that the same commits modify.

For a target ``t`` changed by ``n_t`` commits and a target ``u`` changed together with it by
``support`` of them: ``confidence = support / n_t`` (how often a change to ``t`` comes with one
to ``u``) and ``weight = support / (n_t + n_u - support)`` (Jaccard). Commits touching more than
``max_files`` targets (mass renames, reformatting) say nothing about coupling and are skipped.

Incremental: only targets the new commits touched are recomputed (their coupling is the only one
whose numbers can change: ``support(t, u)`` grows only when both change, ``n_t`` only when
``t`` does). Each target's outgoing CO_CHANGES are owned by ``cochange:<repo>:<target id>``, so a
recomputation replaces exactly them::

    batches = await cochange_batches(store, "flask", [sha1, sha2])
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from kg.model import (
    SYMBOL_KINDS,
    Batch,
    EntityKind,
    Relation,
    RelationKind,
    Validity,
    entity_id,
    kind_of,
)
from kg.stores.base import GraphStore

PROVENANCE = "derived:co-change"
FULL_SCAN = 2000  # new commits beyond which one scan of all MODIFIES beats per-commit lookups


@dataclass(frozen=True, slots=True)
class CoChangeConfig:
    max_files: int = 50
    min_support: int = 2
    top: int = 20


def cochange_scope(repo: str, target: str) -> str:
    return f"cochange:{repo}:{target}"


def _group(eid: str) -> str:
    return "file" if kind_of(eid) is EntityKind.FILE else "symbol"


async def cochange_batches(
    store: GraphStore, repo: str, shas: Sequence[str], config: CoChangeConfig | None = None
) -> list[Batch]:
    """Recompute the CO_CHANGES of every file and symbol the commits ``shas`` modified."""
    cfg = config or CoChangeConfig()
    commit_ids = [entity_id(EntityKind.COMMIT, repo, s) for s in dict.fromkeys(shas)]
    if len(commit_ids) > FULL_SCAN:
        # Most of the history is new (a first index): one scan beats many lookups.
        edges = [_edge(r) for r in await store.relations(repo, [RelationKind.MODIFIES])]
        new = set(commit_ids)
        touched = {t for c, t, _ in edges if c in new}
    else:
        touched = set()
        for chunk in _chunks(commit_ids):
            for nbs in (await store.neighbors(chunk, [RelationKind.MODIFIES], "out")).values():
                touched.update(nb.entity.id for nb in nbs if _eligible(nb.entity.id))
        edges = await _edges_around(store, sorted(touched))
    edges = [e for e in edges if _eligible(e[1])]
    if not touched:
        return []
    history: dict[str, list[tuple[str, tuple[str, str]]]] = {}
    targets_of: dict[str, dict[str, set[str]]] = {}
    for commit, target, sha in edges:
        history.setdefault(target, []).append((commit, sha))
        groups = targets_of.setdefault(commit, {"file": set(), "symbol": set()})
        groups[_group(target)].add(target)
    counts = {g: _counts(targets_of, g, cfg.max_files) for g in ("file", "symbol")}
    batch = Batch(repo=repo)
    for target in sorted(touched):
        batch.replace_scopes.add(cochange_scope(repo, target))
        batch.relations += _pairs(
            repo, target, history.get(target, []), targets_of, counts[_group(target)], cfg
        )
    return [batch]


Edge = tuple[str, str, tuple[str, str]]  # (commit id, target id, (commit time, sha))


def _edge(r: Relation) -> Edge:
    when = r.valid.from_time.isoformat() if r.valid.from_time else ""
    return r.src, r.dst, (when, r.valid.from_commit or "")


def _eligible(eid: str) -> bool:
    kind = kind_of(eid)
    return kind is EntityKind.FILE or kind in SYMBOL_KINDS


async def _edges_around(store: GraphStore, targets: list[str]) -> list[Edge]:
    """The MODIFIES edges of every commit that touched one of ``targets``."""
    commits: set[str] = set()
    for chunk in _chunks(targets):
        found = await store.neighbors(chunk, [RelationKind.MODIFIES], "in")
        commits.update(nb.entity.id for nbs in found.values() for nb in nbs)
    edges: list[Edge] = []
    for chunk in _chunks(sorted(commits)):
        found = await store.neighbors(chunk, [RelationKind.MODIFIES], "out")
        edges += [_edge(nb.relation) for nbs in found.values() for nb in nbs]
    return edges


def _pairs(
    repo: str,
    target: str,
    commits: list[tuple[str, tuple[str, str]]],
    targets_of: dict[str, dict[str, set[str]]],
    n_of: Counter[str],
    cfg: CoChangeConfig,
) -> list[Relation]:
    group = _group(target)
    support: Counter[str] = Counter()
    last: dict[str, tuple[str, str]] = {}  # the newest shared commit: (time, sha)
    counted = 0
    for commit, sha in commits:
        others = targets_of.get(commit, {}).get(group, set())
        if len(others) > cfg.max_files:
            continue
        counted += 1
        for other in others:
            if other != target:
                support[other] += 1
                last[other] = max(last.get(other, sha), sha)
    ranked = sorted(
        ((n, o) for o, n in support.items() if n >= cfg.min_support), key=lambda x: (-x[0], x[1])
    )[: cfg.top]
    out: list[Relation] = []
    for n, other in ranked:
        conf = n / counted if counted else 0.0
        union = counted + n_of.get(other, n) - n
        out.append(
            Relation(
                kind=RelationKind.CO_CHANGES,
                src=target,
                dst=other,
                confidence=round(conf, 4),
                provenance=PROVENANCE,
                owner=cochange_scope(repo, target),
                attrs={
                    "support": n,
                    "confidence": round(conf, 4),
                    "weight": round(n / union, 4) if union else 0.0,
                    "commits": counted,
                },
                valid=Validity(from_commit=last[other][1] or None),
            )
        )
    return out


def _counts(targets_of: dict[str, dict[str, set[str]]], group: str, cap: int) -> Counter[str]:
    n: Counter[str] = Counter()
    for groups in targets_of.values():
        members = groups.get(group, set())
        if len(members) <= cap:
            n.update(members)
    return n


def _chunks(ids: Sequence[str], size: int = 500) -> list[list[str]]:
    return [list(ids[i : i + size]) for i in range(0, len(ids), size)]
