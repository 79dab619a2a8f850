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

A reference to a thread or commit the store does not hold yet (webhooks arrive in any order;
a commit may be indexed before its issue is opened) is remembered as extractor state
``awaits:#12:<source id>`` / ``awaits:sha:<7 hex>:<source id>``; when that thread or commit
arrives, ``backfill_batch`` re-links exactly the texts waiting for it (an indexed prefix lookup,
never a scan of the repository's texts) and forgets the entries::

    batch = await backfill_batch(store, repo, arrived)   # after the arrived entities are stored
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from kg.model import Batch, Entity, EntityKind, Relation, RelationKind, Validity, entity_id
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
AWAITS = "awaits:"
THREAD_KINDS = (EntityKind.ISSUE, EntityKind.PULL_REQUEST)
# Above this many arrived commits one read of every sha entry beats a lookup per commit.
SHA_LOOKUPS_MAX = 64


def links_scope(repo: str, source: str) -> str:
    return f"links:{repo}:{source}"


@dataclass(slots=True)
class _Links:
    repo: str
    source: Entity
    relations: dict[tuple[str, str], Relation] = field(default_factory=dict)
    awaits: dict[str, str] = field(default_factory=dict)  # state entries: unresolved references

    def wait(self, target: str, value: str = "") -> None:
        self.awaits[f"{AWAITS}{target}:{self.source.id}"] = value

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
        batch.state.update(links.awaits)
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
        if not found:
            links.wait(f"#{num}")
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
            else:
                links.wait(f"sha:{sha[:7]}", sha)
            continue
        found = await store.find(
            EntityQuery(repo=repo, kinds=[EntityKind.COMMIT], name_prefix=sha[:12], limit=2)
        )
        found = [e for e in found if e.key.startswith(sha)]
        if len(found) == 1:
            links.add(RelationKind.MENTIONS, found[0].id, 0.9, "sha")
        elif not found:
            links.wait(f"sha:{sha[:7]}", sha)


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


async def backfill_batch(store: GraphStore, repo: str, arrived: Sequence[Entity]) -> Batch:
    """The links of stored texts that referenced one of ``arrived`` (threads, commits) before
    it was stored, each valid as its thread says (``windows``); the entries they waited on are
    forgotten in the same batch. Empty when nothing waited, so calling it again is a no-op."""
    waiting = await _waiting(store, repo, arrived)
    arrived_ids = {e.id for e in arrived}
    ids = [s for s in dict.fromkeys(waiting.values()) if s not in arrived_ids]
    sources = [e for e in await store.get(ids) if e is not None]
    batch = await link_batch(store, repo, sources)
    spans = await windows(store, sources)
    batch.relations = [replace(r, valid=spans.get(r.src, r.valid)) for r in batch.relations]
    batch.state.update(dict.fromkeys(waiting))  # consumed (None deletes), deleted sources too
    return batch


async def arrived_meanwhile(
    store: GraphStore, repo: str, state: Mapping[str, str | None]
) -> list[Entity]:
    """Targets of the awaits entries just written (``state`` of an applied link batch) that
    exist now: stored by a concurrent writer between the lookup and the write, so no back-fill
    saw the entry; back-fill them once more (``backfill_batch``) to close that race."""
    numbers: set[str] = set()
    shas: set[str] = set()
    for key, value in state.items():
        if value is None or not key.startswith(AWAITS):
            continue
        target = key[len(AWAITS) :].split(":", 2)
        if target[0].startswith("#"):
            numbers.add(target[0])
        elif target[0] == "sha" and value:
            shas.add(value)
    ids = [entity_id(k, repo, n) for n in sorted(numbers) for k in THREAD_KINDS]
    out = [e for e in await store.get(ids) if e is not None]
    for sha in sorted(shas):
        query = EntityQuery(repo=repo, kinds=[EntityKind.COMMIT], name_prefix=sha[:12], limit=2)
        out += [e for e in await store.find(query) if e.key.startswith(sha)][:1]
    return out


async def _waiting(store: GraphStore, repo: str, arrived: Sequence[Entity]) -> dict[str, str]:
    """``{awaits key: source id}`` of the entries one of ``arrived`` satisfies."""
    out: dict[str, str] = {}
    threads = [e for e in arrived if e.kind in THREAD_KINDS]
    for prefix in dict.fromkeys(f"{AWAITS}{e.key}:" for e in threads):
        out.update({k: k[len(prefix) :] for k in await store.states(repo, prefix)})
    commits = {e.key for e in arrived if e.kind is EntityKind.COMMIT}
    if not commits:
        return out
    sha_prefix = f"{AWAITS}sha:"
    if len(commits) > SHA_LOOKUPS_MAX:
        entries = await store.states(repo, sha_prefix)
    else:
        entries = {}
        for short in sorted({c[:7] for c in commits}):
            entries.update(await store.states(repo, f"{sha_prefix}{short}:"))
    shorts = {c[:7] for c in commits}
    for key, mentioned in entries.items():
        short, source = key[len(sha_prefix) :].split(":", 1)
        if short in shorts and any(c.startswith(mentioned) for c in commits if c[:7] == short):
            out[key] = source
    return out


async def windows(store: GraphStore, sources: Sequence[Entity]) -> dict[str, Validity]:
    """When the links of discussion texts hold: from the text's creation until its thread
    closed (``closedAt``, stamped by the webhook worker), open-ended while open. Commits are
    absent (their links keep the commit's own validity)."""
    comments = [e.id for e in sources if e.kind is EntityKind.COMMENT]
    on = await store.neighbors(comments, [RelationKind.COMMENTS_ON], "out") if comments else {}
    out: dict[str, Validity] = {}
    for e in sources:
        thread: Entity | None = e if e.kind in THREAD_KINDS else None
        if e.kind is EntityKind.COMMENT:
            thread = next((n.entity for n in on[e.id] if n.entity.kind in THREAD_KINDS), None)
        elif thread is None:
            continue
        closed = _time(thread.attrs.get("closedAt")) if thread is not None else None
        out[e.id] = Validity(from_time=_time(e.attrs.get("createdAt")), to_time=closed)
    return out


def _time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
