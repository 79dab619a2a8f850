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
    Entity,
    EntityKind,
    Relation,
    RelationKind,
    Validity,
    entity_id,
    kind_of,
)
from kg.stores.base import GraphStore

PROVENANCE = "derived:co-change"


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
    touched: set[str] = set()
    for chunk in _chunks(commit_ids):
        for nbs in (await store.neighbors(chunk, [RelationKind.MODIFIES], "out")).values():
            touched.update(nb.entity.id for nb in nbs if _eligible(nb.entity))
    if not touched:
        return []
    history = await _commits_of(store, sorted(touched))
    all_commits = sorted({c.id for cs in history.values() for c in cs})
    targets_of = await _targets_of(store, all_commits)
    batch = Batch(repo=repo)
    for target in sorted(touched):
        batch.replace_scopes.add(cochange_scope(repo, target))
        batch.relations += _pairs(repo, target, history.get(target, []), targets_of, cfg)
    return [batch]


def _eligible(e: Entity) -> bool:
    return e.kind is EntityKind.FILE or e.kind in SYMBOL_KINDS


async def _commits_of(store: GraphStore, targets: list[str]) -> dict[str, list[Entity]]:
    out: dict[str, list[Entity]] = {}
    for chunk in _chunks(targets):
        found = await store.neighbors(chunk, [RelationKind.MODIFIES], "in")
        for t, nbs in found.items():
            out[t] = [nb.entity for nb in nbs if nb.entity.kind is EntityKind.COMMIT]
    return out


async def _targets_of(store: GraphStore, commits: list[str]) -> dict[str, dict[str, set[str]]]:
    """Per commit: the files and the symbols it modified (by group)."""
    out: dict[str, dict[str, set[str]]] = {}
    for chunk in _chunks(commits):
        found = await store.neighbors(chunk, [RelationKind.MODIFIES], "out")
        for c, nbs in found.items():
            groups: dict[str, set[str]] = {"file": set(), "symbol": set()}
            for nb in nbs:
                if _eligible(nb.entity):
                    groups[_group(nb.entity.id)].add(nb.entity.id)
            out[c] = groups
    return out


def _pairs(
    repo: str,
    target: str,
    commits: list[Entity],
    targets_of: dict[str, dict[str, set[str]]],
    cfg: CoChangeConfig,
) -> list[Relation]:
    group = _group(target)
    support: Counter[str] = Counter()
    last: dict[str, Entity] = {}
    counted = 0
    for c in commits:
        others = targets_of.get(c.id, {}).get(group, set())
        if len(others) > cfg.max_files:
            continue
        counted += 1
        for other in others:
            if other != target:
                support[other] += 1
                prev = last.get(other)
                if prev is None or str(c.attrs.get("committer_time", "")) > str(
                    prev.attrs.get("committer_time", "")
                ):
                    last[other] = c
    n_of = _counts(targets_of, group, cfg.max_files)
    ranked = sorted(
        ((n, o) for o, n in support.items() if n >= cfg.min_support), key=lambda x: (-x[0], x[1])
    )[: cfg.top]
    out: list[Relation] = []
    for n, other in ranked:
        conf = n / counted if counted else 0.0
        union = counted + n_of.get(other, n) - n
        c = last[other]
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
                valid=Validity(from_commit=c.key),
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
