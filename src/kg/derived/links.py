"""Links from text (commit messages, issues, pull requests, comments) to what it talks about.

Needs the store (it looks names up), so it lives here and not in an extractor. From one text:

* ``fixes #12`` / ``closes #12`` / ``resolves #12`` in a commit or pull request: CLOSES (0.95);
  any other ``#12``: MENTIONS the Issue or PullRequest numbered 12 (0.9; 0.6 when both exist);
* ``Merge pull request #12 from ...``: MENTIONS the PR with ``role: merge`` (1.0), and a
  squash-merge summary ending in ``(#12)``: ``role: squash`` (0.9);
* a commit sha (7-40 hex digits, unique prefix): MENTIONS the Commit (1.0 full, 0.9 short);
* a repository path (``src/app.py``, optionally ``:42``): MENTIONS the File (0.9);
* a symbol in backticks or called (``parse_config()``, `` `Config.load` ``): MENTIONS the
  Function/Class of that name (0.9 when unique, shared among up to 5 candidates, else none;
  a name only a symbol gone at HEAD had: 0.5);
* a review comment (``path`` + ``line`` attrs): COMMENTS_ON the File (1.0) and the innermost
  Function/Class whose span holds the line (0.8: the line is of the reviewed commit, the span
  of the indexed one).

Each source's links are owned by ``links:<repo>:<source id>``, so linking again replaces them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from kg.model import Batch, Entity, EntityKind, Relation, RelationKind, entity_id
from kg.stores.base import EntityQuery, GraphStore

_REF = re.compile(
    r"(?<![\w/&])(?:(?P<kw>close[sd]?|fix(?:e[sd])?|resolve[sd]?)\s*:?\s+)?#(?P<num>\d{1,7})\b",
    re.IGNORECASE,
)
_MERGE = re.compile(r"^Merge pull request #(\d+) from ", re.MULTILINE)
_SQUASH = re.compile(r"\(#(\d+)\)\s*$")
_SHA = re.compile(r"(?<![\w/#])([0-9a-f]{7,40})(?![\w/])")
_PATH = re.compile(r"(?<![\w./-])((?:[\w.-]+/)+[\w.-]+\.[A-Za-z0-9]{1,8}|[\w-]+\.py)(?::\d+)?\b")
_TICKED = re.compile(r"`([^`\n]{1,120})`")
_CALLED = re.compile(r"(?<![\w.])([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*)\(\)")
_IDENT = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*(?:\(\))?$")
MAX_CANDIDATES = 5


def links_scope(repo: str, source: str) -> str:
    return f"links:{repo}:{source}"


@dataclass(slots=True)
class _Links:
    repo: str
    source: Entity
    relations: dict[tuple[str, str], Relation] = field(default_factory=dict)

    def add(self, kind: RelationKind, dst: str, conf: float, how: str, **attrs: str) -> None:
        key = (kind.value, dst)
        old = self.relations.get(key)
        if dst == self.source.id or (old is not None and old.confidence >= conf):
            return
        self.relations[key] = Relation(
            kind=kind,
            src=self.source.id,
            dst=dst,
            confidence=round(conf, 4),
            provenance=f"link:{how}",
            owner=links_scope(self.repo, self.source.id),
            attrs=dict(attrs),
            valid=self.source.valid,
        )


def text_of(e: Entity) -> str:
    if e.kind is EntityKind.COMMIT:
        return str(e.attrs.get("message") or e.attrs.get("summary") or "")
    title, body = e.attrs.get("title"), e.attrs.get("body")
    return "\n".join(str(x) for x in (title, body) if isinstance(x, str) and x)


async def link_batch(store: GraphStore, repo: str, sources: Sequence[Entity]) -> Batch:
    """The links of each source entity (replacing the ones it had)."""
    batch = Batch(repo=repo)
    for src in sources:
        links = _Links(repo, src)
        text = text_of(src)
        await _numbers(store, repo, links, text)
        await _shas(store, repo, links, text)
        await _paths(store, repo, links, text)
        await _symbols(store, repo, links, text)
        await _location(store, repo, links)
        batch.replace_scopes.add(links_scope(repo, src.id))
        batch.relations += links.relations.values()
    return batch


async def _numbers(store: GraphStore, repo: str, links: _Links, text: str) -> None:
    closing = links.source.kind in (EntityKind.COMMIT, EntityKind.PULL_REQUEST)
    refs: list[tuple[int, str, float]] = [
        (int(m.group(1)), "merge", 1.0) for m in _MERGE.finditer(text)
    ]
    summary = text.split("\n", 1)[0]
    refs += [(int(m.group(1)), "squash", 0.9) for m in _SQUASH.finditer(summary)]
    refs += [
        (int(m.group("num")), "closes" if m.group("kw") and closing else "ref", 0.9)
        for m in _REF.finditer(text)
    ]
    for num, role, conf in refs:
        ids = [entity_id(k, repo, f"#{num}") for k in (EntityKind.PULL_REQUEST, EntityKind.ISSUE)]
        found = [e for e in await store.get(ids) if e is not None]
        for e in found:
            if role in ("merge", "squash") and e.kind is not EntityKind.PULL_REQUEST:
                continue
            share = conf if len(found) == 1 or role != "ref" else 0.6
            if role == "closes":
                links.add(RelationKind.CLOSES, e.id, 0.95, "#closes", number=str(num))
            else:
                links.add(RelationKind.MENTIONS, e.id, share, f"#{role}", role=role)


async def _shas(store: GraphStore, repo: str, links: _Links, text: str) -> None:
    for sha in dict.fromkeys(m.group(1) for m in _SHA.finditer(text)):
        if not (re.search(r"\d", sha) and re.search(r"[a-f]", sha)):
            continue  # a plain number or word is no evidence of a sha
        if len(sha) == 40:
            [hit] = await store.get([entity_id(EntityKind.COMMIT, repo, sha)])
            if hit is not None:
                links.add(RelationKind.MENTIONS, hit.id, 1.0, "sha")
            continue
        found = await store.find(
            EntityQuery(repo=repo, kinds=[EntityKind.COMMIT], name_prefix=sha[:12], limit=2)
        )
        found = [e for e in found if e.key.startswith(sha)]
        if len(found) == 1:
            links.add(RelationKind.MENTIONS, found[0].id, 0.9, "sha")


async def _paths(store: GraphStore, repo: str, links: _Links, text: str) -> None:
    paths = list(dict.fromkeys(m.group(1) for m in _PATH.finditer(text)))
    if not paths:
        return
    files = await store.get([entity_id(EntityKind.FILE, repo, p) for p in paths])
    for f in files:
        if f is not None:
            links.add(RelationKind.MENTIONS, f.id, 0.9, "path")


def _names(text: str) -> Iterable[str]:
    for m in _TICKED.finditer(text):
        inner = m.group(1).strip()
        if _IDENT.match(inner):
            yield inner.removesuffix("()")
    for m in _CALLED.finditer(text):
        yield m.group(1)


async def _symbols(store: GraphStore, repo: str, links: _Links, text: str) -> None:
    for name in dict.fromkeys(_names(text)):
        tail = name.rsplit(".", 1)[-1]
        if len(tail) < 3:
            continue
        found = await store.find(
            EntityQuery(
                repo=repo,
                kinds=[EntityKind.FUNCTION, EntityKind.CLASS],
                name=tail,
                limit=MAX_CANDIDATES + 1,
            )
        )
        if "." in name:
            found = [e for e in found if str(e.attrs.get("qualname", "")).endswith(name)]
        # an old name (a symbol gone at HEAD) counts only when no current symbol has it
        current = [e for e in found if not e.attrs.get("historical")]
        found, scale = (current, 0.9) if current else (found, 0.5)
        if 0 < len(found) <= MAX_CANDIDATES:
            for e in found:
                links.add(RelationKind.MENTIONS, e.id, scale / len(found), "symbol", name=name)


async def _location(store: GraphStore, repo: str, links: _Links) -> None:
    path, line = links.source.attrs.get("path"), links.source.attrs.get("line")
    if links.source.kind is not EntityKind.COMMENT or not isinstance(path, str):
        return
    [file] = await store.get([entity_id(EntityKind.FILE, repo, path)])
    if file is None:
        return
    links.add(RelationKind.COMMENTS_ON, file.id, 1.0, "review-path")
    if not isinstance(line, int):
        return
    symbols = await store.find(
        EntityQuery(
            repo=repo, kinds=[EntityKind.FUNCTION, EntityKind.CLASS], path=path, limit=10_000
        )
    )
    holding = [
        e
        for e in symbols
        if e.span is not None
        and e.span.start_line <= line <= e.span.end_line
        and not e.attrs.get("historical")  # a symbol gone at HEAD has no current span
    ]
    if holding:
        inner = min(holding, key=lambda e: (e.span.end_line - e.span.start_line) if e.span else 0)
        links.add(RelationKind.COMMENTS_ON, inner.id, 0.8, "review-line", line=str(line))
