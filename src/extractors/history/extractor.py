"""Per-symbol history: which commit changed which function or class, by how many lines, and
which symbols were renamed or moved (a ``RepoExtractor`` named ``history``).

One ``git log -p -U0 --full-index -M`` process streams every commit's hunk headers; both blob
versions of each changed file are read through one ``git cat-file --batch`` and parsed by the
file extractor the code stage uses for that path (cached by blob sha, so each version of a file
is parsed once: the new side of one commit is the old side of the next). Output per commit,
owned by ``hist:<repo>:<sha>``: MODIFIES commit -> Function/Class (``added``/``removed`` lines,
``change`` A/M/D/R) and RENAMED_TO old symbol -> new symbol with a confidence. Symbols that no
longer exist at HEAD get a history-owned entity (``historical: true``, valid until the commit
that removed them) so the edges to them survive::

    ctx = RepoContext("flask", Path("/tmp/flask"), file_extractor=registry.for_path)
    for rb in SymbolHistoryExtractor().extract_repo(ctx, state=None):
        await store.apply(rb.batch)

Resumable like ``GitExtractor``: the state is the last commit streamed.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from extractors.base import FileExtractor, RepoBatch, RepoContext
from extractors.git import GitExtractor
from extractors.history.diff import LOG_FORMAT, CommitDiff, FileDiff, parse_patches
from extractors.history.gitio import BlobReader, head_tree
from extractors.history.symbols import (
    Parsed,
    Rename,
    Symbol,
    Touch,
    map_hunks,
    pair_renames,
    parse_blob,
)
from kg.errors import ExtractorError
from kg.model import Batch, Entity, EntityKind, Relation, RelationKind, Validity, entity_id

Lookup = Callable[[str], FileExtractor | None]


def history_scope(repo: str, sha: str) -> str:
    """Replace scope (and owner) of the symbol-level facts of one commit."""
    return f"hist:{repo}:{sha}"


def symbols_scope(repo: str) -> str:
    """Owner of the entities of symbols that no longer exist at HEAD."""
    return f"hist:{repo}:symbols"


class ParseCache:
    """Parsed blobs by (blob sha, path), least recently used dropped first."""

    def __init__(self, repo: str, blobs: BlobReader, lookup: Lookup, size: int, max_bytes: int):
        self._repo, self._blobs, self._lookup = repo, blobs, lookup
        self._size, self._max = size, max_bytes
        self._cache: OrderedDict[tuple[str, str], Parsed | None] = OrderedDict()
        self.parsed = 0

    def get(self, blob: str | None, path: str | None) -> Parsed | None:
        if blob is None or path is None:
            return None
        key = (blob, path)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        value = self._parse(blob, path)
        self._cache[key] = value
        if len(self._cache) > self._size:
            self._cache.popitem(last=False)
        return value

    def _parse(self, blob: str, path: str) -> Parsed | None:
        extractor = self._lookup(path)
        if extractor is None:
            return None
        data = self._blobs.read(blob)
        if data is None or len(data) > self._max or b"\0" in data[:8000]:
            return None  # a submodule, a huge or a binary file: no symbols to map
        self.parsed += 1
        return parse_blob(self._repo, path, data, extractor)


@dataclass(slots=True)
class _Tombstones:
    """Entities for symbols gone at HEAD, emitted once per run (again when their end moves)."""

    repo: str
    head: dict[str, str]
    cache: ParseCache
    emitted: dict[str, str | None] = field(default_factory=dict)

    def alive(self, sym: Symbol) -> bool:
        path = sym.entity.path or ""
        parsed = self.cache.get(self.head.get(path), path)
        return parsed is not None and sym.entity.id in parsed.symbols

    def entity(self, sym: Symbol, gone: str | None, when: datetime) -> Entity | None:
        sid = sym.entity.id
        if (sid in self.emitted and self.emitted[sid] == gone) or self.alive(sym):
            return None
        self.emitted[sid] = gone
        valid = Validity(to_commit=gone, to_time=when) if gone else Validity()
        attrs = {**sym.entity.attrs, "historical": True}
        return replace(sym.entity, owner=symbols_scope(self.repo), attrs=attrs, valid=valid)


class SymbolHistoryExtractor:
    """``RepoExtractor`` mapping every commit's hunks onto symbols (see the module doc)."""

    name = "history"
    version = "1"

    def __init__(
        self,
        *,
        all_branches: bool = False,
        batch_size: int = 200,
        cache_size: int = 4096,
        max_blob_bytes: int = 1_000_000,
        git: str = "git",
    ) -> None:
        self._git_extractor = GitExtractor(all_branches=all_branches, git=git)
        self.batch_size = batch_size
        self.cache_size = cache_size
        self.max_blob_bytes = max_blob_bytes
        self._git = git
        self.parsed = 0  # blobs parsed by the last run (for measurements)

    def applies(self, ctx: RepoContext) -> tuple[bool, str]:
        if ctx.file_extractor is None:
            return False, "per-symbol history needs the file extractors (none were given)"
        return self._git_extractor.applies(ctx)

    def extract_repo(self, ctx: RepoContext, state: str | None) -> Iterator[RepoBatch]:
        ok, why = self.applies(ctx)
        if not ok:
            if "no commits yet" in why:
                return
            raise ExtractorError(why)
        assert ctx.file_extractor is not None
        revs, notes = self._git_extractor.revisions(ctx, state)
        with BlobReader(ctx.root, self._git) as blobs:
            cache = ParseCache(
                ctx.repo, blobs, ctx.file_extractor, self.cache_size, self.max_blob_bytes
            )
            graves = _Tombstones(ctx.repo, head_tree(ctx.root, self._git), cache)
            batch, count, note = Batch(repo=ctx.repo), 0, "; ".join(notes)
            last: str | None = None
            deleted: dict[str, str] = {}
            for commit in self._stream(ctx, revs):
                deleted |= _add_commit(batch, ctx.repo, commit, cache, graves, ctx.file_extractor)
                count, last = count + 1, commit.sha
                if count >= self.batch_size:
                    yield RepoBatch(batch=batch, state=last, note=note)
                    batch, count, note = Batch(repo=ctx.repo), 0, ""
            if count:
                yield RepoBatch(batch=batch, state=last, note=note)
            if deleted and state is not None and last is not None and not notes:
                yield RepoBatch(batch=self._rehydrate(ctx, state, deleted, cache), state=last)
            self.parsed = cache.parsed

    def _rehydrate(
        self, ctx: RepoContext, state: str, deleted: dict[str, str], cache: ParseCache
    ) -> Batch:
        """Edges from commits before ``state`` to symbols the new commits deleted.

        Those symbols existed at the last run, so the code stage owned them; deleting them
        from the tree just removed their entities with every edge. Their history-owned
        entities are back (emitted with the deleting commit), so their old edges are re-derived
        from git: the cost grows with the history of the files they lived in."""
        assert ctx.file_extractor is not None
        batch = Batch(repo=ctx.repo)
        paths = sorted({p for p in deleted.values() if p})
        for commit in self._stream(ctx, [state], paths):
            _add_commit(batch, ctx.repo, commit, cache, None, ctx.file_extractor, deleted)
        return batch

    def _stream(
        self, ctx: RepoContext, revs: list[str], paths: Sequence[str] = ()
    ) -> Iterator[CommitDiff]:
        cmd = [
            self._git,
            "-C",
            str(ctx.root),
            "-c",
            "core.quotepath=off",
            "-c",
            "diff.renames=true",
            "log",
            "--reverse",
            "--topo-order",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            "--relative",
            "-p",
            "-U0",
            "--full-index",
            "-M",
            f"--format={LOG_FORMAT}",
            *revs,
            "--",
            *paths,
        ]
        with tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err)
            assert proc.stdout is not None
            try:
                yield from parse_patches(proc.stdout)
                rc = proc.wait()
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                proc.stdout.close()
            if rc != 0:
                err.seek(0)
                detail = err.read().decode("utf-8", "replace").strip().splitlines()[:1]
                raise ExtractorError(
                    f"git log -p failed in repository {ctx.repo!r} at {ctx.root}: "
                    f"{detail[0] if detail else 'no error output'}; run `git fsck` there"
                )


def _add_commit(
    batch: Batch,
    repo: str,
    commit: CommitDiff,
    cache: ParseCache,
    graves: _Tombstones | None,
    lookup: Lookup,
    keep: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Add one commit's facts; returns the symbols it deleted (id -> path).

    With ``keep`` (re-emitting old facts of symbols the code stage just dropped), only edges
    touching those symbols are added and the commit's scope is not replaced."""
    scope = history_scope(repo, commit.sha)
    if keep is None:
        batch.replace_scopes.add(scope)
    touches: list[Touch] = []
    for fd in commit.files:
        touches += _file_touches(fd, cache, lookup)
    if not touches:
        return {}
    when = datetime.fromtimestamp(commit.time, UTC)
    valid = Validity(from_commit=commit.sha, from_time=when)
    renames = pair_renames(touches)
    old_side = {r.old.entity.id: r for r in renames}
    new_side = {r.new.entity.id: r for r in renames}
    removed_by_old = {t.symbol.entity.id: t.removed for t in touches if t.change == "D"}
    cid = entity_id(EntityKind.COMMIT, repo, commit.sha)
    deleted: dict[str, str] = {}
    for t in touches:
        sid = t.symbol.entity.id
        gone = commit.sha if t.change == "D" else None
        if gone is not None:
            deleted[sid] = t.symbol.entity.path or ""
        if graves is not None and (grave := graves.entity(t.symbol, gone, when)) is not None:
            batch.entities.append(grave)
        if sid in old_side or (keep is not None and sid not in keep):
            continue  # the rename edge and the new symbol's MODIFIES tell this change
        change, removed = t.change, t.removed
        if (r := new_side.get(sid)) is not None:
            change, removed = "R", removed_by_old.get(r.old.entity.id, 0)
        batch.relations.append(
            Relation(
                kind=RelationKind.MODIFIES,
                src=cid,
                dst=sid,
                provenance="history:diff",
                owner=scope,
                valid=valid,
                attrs={
                    "change": change,
                    "added": t.added,
                    "removed": removed,
                    "path": t.symbol.entity.path or "",
                },
            )
        )
    batch.relations += [
        _renamed(r, commit.sha, scope, valid)
        for r in renames
        if keep is None or r.old.entity.id in keep or r.new.entity.id in keep
    ]
    return deleted


def _renamed(r: Rename, sha: str, scope: str, valid: Validity) -> Relation:
    return Relation(
        kind=RelationKind.RENAMED_TO,
        src=r.old.entity.id,
        dst=r.new.entity.id,
        confidence=r.confidence,
        provenance=f"history:{r.method}",
        owner=scope,
        valid=valid,
        attrs={"commit": sha, "from": r.old.entity.key, "to": r.new.entity.key},
    )


def _file_touches(fd: FileDiff, cache: ParseCache, lookup: Lookup) -> list[Touch]:
    path = fd.new_path or fd.old_path
    if fd.binary or path is None or lookup(path) is None:
        return []
    old = cache.get(fd.old_blob, fd.old_path)
    new = cache.get(fd.new_blob, fd.new_path)
    return map_hunks(old, new, fd.hunks)
