"""Context packs: the code and facts most relevant to one entity, ranked, within a token budget.

What an assistant would put into a prompt about a symbol: its source, the signatures of its
callers and callees, the docstring of what defines it, recent commits touching it or its file,
discussions mentioning it and annotations on it. Every item says why it was included and what
it costs. Tokens are estimated as ``ceil(chars / 4)`` (close to BPE tokenizers on English and
code; no tokenizer is loaded), so treat the budget as approximate.

    pack = await build_pack(store, entity, budget_tokens=800)
    for item in pack.items: print(item.kind, item.tokens, item.reason)
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from kg.model import Entity, EntityKind, Neighbor, RelationKind, entity_id
from kg.stores.base import GraphStore

ItemKind = Literal["code", "signature", "docstring", "commit", "discussion", "annotation"]
MAX_SOURCE_BYTES = 2_000_000
MAX_COMMITS = 5
MIN_TRUNCATED_TOKENS = 16
_KIND_ORDER = ("code", "signature", "docstring", "annotation", "discussion", "commit")


def estimate_tokens(text: str) -> int:
    """Approximate tokens: one per four characters, at least one for non-empty text."""
    return math.ceil(len(text) / 4) if text else 0


@dataclass(frozen=True, slots=True)
class PackItem:
    kind: ItemKind
    entity: Entity
    text: str
    tokens: int
    score: float
    reason: str


@dataclass(frozen=True, slots=True)
class ContextPack:
    target: Entity
    budget: int
    items: list[PackItem]
    omitted: int

    @property
    def used(self) -> int:
        return sum(i.tokens for i in self.items)


def _item(kind: ItemKind, entity: Entity, text: str, score: float, reason: str) -> PackItem:
    return PackItem(kind, entity, text, estimate_tokens(text), round(score, 4), reason)


async def build_pack(store: GraphStore, target: Entity, budget: int) -> ContextPack:
    """Rank every candidate, then take them greedily while they fit the budget."""
    incoming = (await store.neighbors([target.id], None, "in"))[target.id]
    outgoing = (await store.neighbors([target.id], [RelationKind.CALLS], "out"))[target.id]
    candidates = [await _code(store, target)]
    candidates += _calls(incoming, "in") + _calls(outgoing, "out")
    candidates += _docstrings(incoming) + _discussions(incoming) + _annotations(incoming)
    candidates += await _commits(store, target, incoming)
    candidates.sort(key=lambda i: (-i.score, _KIND_ORDER.index(i.kind), i.entity.id))
    chosen: list[PackItem] = []
    left, omitted = budget, 0
    for item in candidates:
        if item.tokens <= left:
            chosen.append(item)
            left -= item.tokens
        elif item.kind == "code" and left >= MIN_TRUNCATED_TOKENS:
            text = item.text[: left * 4]
            reason = item.reason + " (truncated to fit the budget)"
            chosen.append(_item("code", item.entity, text, item.score, reason))
            left -= estimate_tokens(text)
        else:
            omitted += 1
    return ContextPack(target=target, budget=budget, items=chosen, omitted=omitted)


def _describe(e: Entity) -> str:
    qual = e.attrs.get("qualname")
    name = qual if isinstance(qual, str) and qual else e.name
    sig = e.attrs.get("signature")
    head = sig if isinstance(sig, str) and sig else name
    where = f"{e.path}:{e.span.start_line}" if e.path and e.span else (e.path or e.repo)
    return f"{head}  # {e.kind.value.lower()} {name} at {where}"


async def _code(store: GraphStore, target: Entity) -> PackItem:
    source = await _source(store, target)
    if source is not None:
        return _item("code", target, source, 1.0, "the entity's own source code")
    doc = target.attrs.get("docstring")
    text = _describe(target) + (f"\n{doc}" if isinstance(doc, str) and doc else "")
    return _item("code", target, text, 1.0, "the entity itself (its source is not readable)")


async def _source(store: GraphStore, target: Entity) -> str | None:
    if target.path is None or target.span is None:
        return None
    [repo] = await store.get([entity_id(EntityKind.REPOSITORY, target.repo, "")])
    root = None if repo is None else repo.attrs.get("root")
    if not isinstance(root, str) or not root:
        return None
    span = target.span

    def read() -> str | None:
        base = Path(root).resolve()
        path = (base / target.path).resolve() if target.path else base
        # the path comes from the graph; never read outside the repository it names
        if not path.is_relative_to(base) or not path.is_file():
            return None
        if path.stat().st_size > MAX_SOURCE_BYTES:
            return None
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join(lines[span.start_line - 1 : span.end_line]) or None

    return await asyncio.to_thread(read)


def _calls(edges: list[Neighbor], direction: Literal["in", "out"]) -> list[PackItem]:
    base, reason = (0.8, "calls this") if direction == "in" else (0.75, "is called by this")
    return [
        _item(
            "signature",
            n.entity,
            _describe(n.entity),
            base * n.relation.confidence,
            f"{reason} (confidence {n.relation.confidence:.2f}, {n.relation.provenance})",
        )
        for n in edges
        if n.relation.kind is RelationKind.CALLS
    ]


def _docstrings(edges: list[Neighbor]) -> list[PackItem]:
    out = []
    for n in edges:
        doc = n.entity.attrs.get("docstring")
        if n.relation.kind is RelationKind.DEFINES and isinstance(doc, str) and doc:
            text = f"{_describe(n.entity)}\n{doc}"
            out.append(_item("docstring", n.entity, text, 0.6, "docstring of what defines it"))
    return out


def _discussions(edges: list[Neighbor]) -> list[PackItem]:
    out = []
    for n in edges:
        if n.relation.kind is not RelationKind.MENTIONS:
            continue
        e = n.entity
        number, title, state = (e.attrs.get(k) for k in ("number", "title", "state"))
        body = e.attrs.get("body")
        head = f"{e.kind.value} #{number}: {title or e.name} ({state or 'unknown'})"
        text = head + (f"\n{body[:1200]}" if isinstance(body, str) and body else "")
        out.append(_item("discussion", e, text, 0.55, f"{e.kind.value} mentions it"))
    return out


def _annotations(edges: list[Neighbor]) -> list[PackItem]:
    return [
        _item(
            "annotation", n.entity, str(n.entity.attrs.get("text", "")), 0.7, "annotated by a user"
        )
        for n in edges
        if n.relation.kind is RelationKind.ANNOTATES
    ]


async def _commits(store: GraphStore, target: Entity, incoming: list[Neighbor]) -> list[PackItem]:
    mods = [n for n in incoming if n.relation.kind is RelationKind.MODIFIES]
    reason = "a recent commit modified it"
    if target.path is not None and target.kind is not EntityKind.FILE:
        fid = entity_id(EntityKind.FILE, target.repo, target.path)
        mods += (await store.neighbors([fid], [RelationKind.MODIFIES], "in"))[fid]
    commits = {n.entity.id: n.entity for n in mods}
    newest = sorted(commits.values(), key=_commit_time, reverse=True)[:MAX_COMMITS]
    out = []
    for rank, c in enumerate(newest):
        sha = str(c.attrs.get("sha") or c.key)[:10]
        when = _commit_time(c)[:10]
        text = f"{sha} {when} {c.attrs.get('author_name') or ''}: {c.attrs.get('summary') or ''}"
        out.append(_item("commit", c, text, 0.5 * 0.85**rank, reason + f" (#{rank + 1} newest)"))
    return out


def _commit_time(c: Entity) -> str:
    value = c.attrs.get("committer_time") or c.attrs.get("author_time")
    return value if isinstance(value, str) else ""
