"""The indexing pipeline: extract -> resolve -> store -> embed changed content -> publish.

Incremental by construction: a file is re-extracted only when its content hash (salted with the
extractor's name and version) differs from the one recorded with its last successful apply; a
file is re-resolved when it changed or when a file it depends on (by its resolver's account)
changed or vanished; git history resumes from the last indexed commit. Re-running on an
unchanged tree therefore writes nothing and embeds nothing.

    indexer = Indexer(store, registry, embedding=stage, bus=bus)
    report = await indexer.index(Path("."))
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections import Counter
from collections.abc import AsyncIterable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from extractors.base import (
    FileExtract,
    FileExtractor,
    RepoContext,
    RepoExtractor,
)
from extractors.registry import ExtractorRegistry
from kg.bulk import Resolution, extract_files
from kg.derived.refresh import derive_after_commits
from kg.embedding_stage import EmbeddingStage
from kg.events.base import Event, EventBus
from kg.impact import RepoCache
from kg.model import (
    Batch,
    Entity,
    EntityKind,
    GraphDelta,
    merge_deltas,
)
from kg.parallel import gc_paused
from kg.pipeline_state import (
    DEPS,
    EXT,
    HASH,
    SYMTAB,
    USES,
    decode_into,
    done_batch,
    file_batches,
    resolved_batch,
    salted_hash,
)
from kg.sources import (
    Candidate,
    Skipped,
    classify,
    classify_data,
    is_git_repo,
    list_paths,
    scan,
)
from kg.stores.base import GraphStore
from kg.stores.inflight import apply_in_order
from kg.telemetry import tracer

log = logging.getLogger(__name__)

CHUNK_FILES = 200
# Resolved edges go to the store as they come, but never fewer than this many files a write
# unless resolution has ended: every commit rewrites most index pages a batch touches.
RESOLVED_LEAST = 64

Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass(slots=True)
class IndexReport:
    repo: str
    files_seen: int = 0
    files_changed: int = 0
    files_deleted: int = 0
    files_resolved: int = 0
    resolved: list[str] = field(default_factory=list)  # the paths counted in files_resolved
    skipped: Counter[str] = field(default_factory=Counter)
    unknown_extension: int = 0
    commits: int = 0
    embedded: int = 0
    entities_added: int = 0
    entities_updated: int = 0
    entities_removed: int = 0
    relations_added: int = 0
    relations_removed: int = 0
    parse_errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    embed_seconds: float = 0.0

    def count(self, delta: GraphDelta) -> None:
        self.entities_added += len(delta.added)
        self.entities_updated += len(delta.updated)
        self.entities_removed += len(delta.removed)
        self.relations_added += delta.relations_added
        self.relations_removed += delta.relations_removed

    @property
    def wrote_anything(self) -> bool:
        return bool(
            self.entities_added
            or self.entities_updated
            or self.entities_removed
            or self.relations_added
            or self.relations_removed
        )


@dataclass(frozen=True, slots=True)
class FileChange:
    """A file to re-index: ``data`` as an editor has it, or None to read it from disk."""

    path: str
    data: bytes | None = None
    deleted: bool = False


def repo_name_for(root: Path) -> str:
    return root.resolve().name or "repo"


class Indexer:
    def __init__(
        self,
        store: GraphStore,
        registry: ExtractorRegistry,
        *,
        embedding: EmbeddingStage | None = None,
        bus: EventBus | None = None,
        max_file_bytes: int = 1_000_000,
        include_generated: bool = False,
        history: bool = True,
        progress: Progress | None = None,
    ) -> None:
        self._store = store
        self._registry = registry
        self._embedding = embedding
        self._bus = bus
        self._max_bytes = max_file_bytes
        self._include_generated = include_generated
        self._history = history
        self._progress = progress or (lambda stage, done, total: None)
        self._caches: dict[str, RepoCache] = {}

    async def index(self, root: Path, repo: str | None = None) -> IndexReport:
        root = await asyncio.to_thread(root.resolve)
        repo = repo or repo_name_for(root)
        report = IndexReport(repo=repo)
        started = time.perf_counter()
        with tracer.start_as_current_span("pipeline.index", attributes={"repo": repo}):
            deltas = [await self._apply(self._repository_batch(repo, root), report)]
            deltas += await self._index_code(root, repo, report)
            if self._history:
                deltas += await self._index_history(root, repo, report)
            delta = merge_deltas(repo, deltas)
            await self._publish(delta)
        report.seconds = time.perf_counter() - started
        return report

    async def warm(self, repo: str) -> None:
        """Read everything incremental work needs of ``repo`` now (a long-lived worker calls
        this at start), so its first change does not wait for the stored symbol tables."""
        cache = await self._cache(repo)
        await self._complete(repo, cache)
        await asyncio.to_thread(self._prepare_resolvers, cache)
        # The tables were decoded with the collector paused: its first full pass over them
        # would otherwise fall on the first save (a tenth of a second on a large repository).
        await asyncio.to_thread(gc.collect)

    def _prepare_resolvers(self, cache: RepoCache) -> None:
        """Ask each language's resolver once what one of its files depends on: resolvers
        build their index of the repository's tables on first use, and that (a seventh of a
        second on vue/core) should not fall on the first save."""
        asked: set[str] = set()
        for path, table in cache.tables.items():
            extractor = self._registry.for_path(path)
            if extractor is None or extractor.name in asked:
                continue
            asked.add(extractor.name)
            resolver = extractor.resolver()
            if resolver is not None:
                resolver.depends_on(table, cache.tables)

    async def update_files(
        self, root: Path, changes: Sequence[FileChange], repo: str | None = None
    ) -> IndexReport:
        """Apply just these file changes (an editor save, a watcher event): the cost grows
        with the change and its dependents, not with the repository."""
        root = await asyncio.to_thread(root.resolve)
        repo = repo or repo_name_for(root)
        report = IndexReport(repo=repo)
        started = time.perf_counter()
        with tracer.start_as_current_span(
            "pipeline.update", attributes={"repo": repo, "files": len(changes)}
        ):
            cache = await self._cache(repo)
            present: dict[str, tuple[FileExtractor, Candidate]] = {}
            gone: list[str] = []
            for change in changes:
                if change.data is None:
                    cache.buffers.pop(change.path, None)
                else:
                    cache.buffers[change.path] = change.data
                item = await asyncio.to_thread(self._candidate, root, change, report)
                if item is None:
                    if change.path in cache.hashes:
                        gone.append(change.path)
                elif (extractor := self._registry.for_path(item.path)) is not None:
                    present[item.path] = (extractor, item)
            report.files_seen = len(present)
            delta = merge_deltas(
                repo, await self._apply_code(root, repo, present, gone, cache, report)
            )
            await self._publish(delta)
        report.seconds = time.perf_counter() - started
        return report

    # -- code -------------------------------------------------------------------------------

    async def _index_code(self, root: Path, repo: str, report: IndexReport) -> list[GraphDelta]:
        with tracer.start_as_current_span("pipeline.scan", attributes={"repo": repo}):
            paths = await asyncio.to_thread(list_paths, root)
            cache = await self._cache(repo)
        # A rescan indexes the disk: an editor's older unsaved text must not come back when a
        # file is re-resolved as a dependent later.
        cache.buffers.clear()
        candidates: dict[str, tuple[FileExtractor, Candidate]] = {}
        for item in await asyncio.to_thread(self._scan, root, paths, report):
            extractor = self._registry.for_path(item.path)
            if extractor is not None:
                candidates[item.path] = (extractor, item)
        report.files_seen = len(candidates)
        deleted = sorted(p for p in cache.hashes if p not in candidates)
        return await self._apply_code(root, repo, candidates, deleted, cache, report)

    async def _apply_code(
        self,
        root: Path,
        repo: str,
        candidates: Mapping[str, tuple[FileExtractor, Candidate]],
        deleted: Sequence[str],
        cache: RepoCache,
        report: IndexReport,
    ) -> list[GraphDelta]:
        with gc_paused():
            return await self._code_stages(root, repo, candidates, deleted, cache, report)

    async def _code_stages(
        self,
        root: Path,
        repo: str,
        candidates: Mapping[str, tuple[FileExtractor, Candidate]],
        deleted: Sequence[str],
        cache: RepoCache,
        report: IndexReport,
    ) -> list[GraphDelta]:
        hashes = {p: salted_hash(ex, c.data) for p, (ex, c) in candidates.items()}
        changed = [p for p in candidates if cache.hashes.get(p) != hashes[p]]
        report.files_changed, report.files_deleted = len(changed), len(deleted)
        if not changed and not deleted:
            return []
        await self._complete(repo, cache)
        extracts = await self._extract(repo, [(p, *candidates[p]) for p in changed], report)
        fresh = dict(extracts)  # the changed files: what the run's last write records
        changes, renamed = cache.interface_changes(extracts, deleted)
        cache.forget(deleted)
        added = [p for p in changed if p not in cache.hashes]
        cache.hashes.update({p: hashes[p] for p in changed})
        for path, ex in extracts.items():
            cache.tables[path] = ex.symbols
        extractors = dict(candidates)
        todo = (cache.dependents(changes, renamed) | cache.importers(added)) - set(extracts)
        if todo:
            extracts.update(
                await self._reextract(root, repo, sorted(todo), cache, extractors, report)
            )
        report.files_resolved = len(extracts)
        report.resolved = sorted(extracts)
        items = sorted(extracts.items())
        resolvers = {name: ex.resolver() for name, ex in _by_extractor(extractors).items()}
        resolver_of = {path: resolvers[extractors[path][0].name] for path, _ in items}
        deltas: list[GraphDelta] = []
        try:
            # Resolution reads symbol tables only: it runs while the store takes the files,
            # and its first edges are written while the rest are still being resolved.
            async with Resolution(repo, items, cache.tables, resolver_of) as resolution:
                # Built now, not before: the forked worker is already resolving meanwhile.
                done = done_batch(repo, fresh, hashes, deleted)
                deltas += await self._apply_all(
                    file_batches(repo, fresh, deleted, CHUNK_FILES), report
                )
                deltas += await self._apply_all(
                    (
                        resolved_batch(repo, part, cache)
                        async for part in resolution.parts(most=CHUNK_FILES, least=RESOLVED_LEAST)
                    ),
                    report,
                )
            done.deletions = cache.orphans()
            deltas.append(await self._apply(done, report))
        except BaseException:
            # The cache already holds what the store did not take: reload it next time.
            self._caches.pop(repo, None)
            raise
        return deltas

    async def _cache(self, repo: str) -> RepoCache:
        """What resolution needs of every file, loaded from the store once per indexer."""
        cache = self._caches.get(repo)
        if cache is not None:
            return cache
        # Hashes alone tell whether anything changed; the rest waits for a change.
        cache = RepoCache(partial=True)
        for key, value in (await self._store.states(repo, HASH)).items():
            cache.hashes[key[len(HASH) :]] = value
        self._caches[repo] = cache
        return cache

    async def _complete(self, repo: str, cache: RepoCache) -> None:
        """Read the symbol tables, dependencies and uses a partial cache still lacks."""
        if not cache.partial:
            return
        raw = [await self._store.states(repo, prefix) for prefix in (SYMTAB, DEPS, USES, EXT)]
        # Decoding every file's table is CPU work (a second on a large repository with the
        # collector running, a fifth of that without): off the event loop, collector paused.
        await asyncio.to_thread(decode_into, cache, *raw)

    def _candidate(self, root: Path, change: FileChange, report: IndexReport) -> Candidate | None:
        """The file as it is now (given bytes or read from disk); None when gone or skipped."""
        if change.deleted:
            return None
        if change.data is not None:
            item = classify_data(
                change.path,
                change.data,
                max_bytes=self._max_bytes,
                include_generated=self._include_generated,
            )
        elif not (root / change.path).is_file():
            return None
        else:
            item = classify(
                root,
                change.path,
                max_bytes=self._max_bytes,
                include_generated=self._include_generated,
            )
        if isinstance(item, Skipped):
            report.skipped[item.reason] += 1
            return None
        return item

    async def _reextract(
        self,
        root: Path,
        repo: str,
        paths: Sequence[str],
        cache: RepoCache,
        extractors: dict[str, tuple[FileExtractor, Candidate]],
        report: IndexReport,
    ) -> dict[str, FileExtract]:
        """Unchanged files to re-resolve, as the editor or the disk has them now (their
        references are not kept between runs)."""

        def read() -> dict[str, tuple[FileExtractor, Candidate]]:
            out: dict[str, tuple[FileExtractor, Candidate]] = {}
            for path in paths:
                item = self._candidate(root, FileChange(path, cache.buffers.get(path)), report)
                extractor = self._registry.for_path(path)
                if item is not None and extractor is not None:
                    out[path] = (extractor, item)
            return out

        found = await asyncio.to_thread(read)
        extractors.update(found)
        extracts = await self._extract(repo, [(p, *found[p]) for p in sorted(found)], report)
        for path, ex in extracts.items():
            extractor, item = found[path]
            if cache.hashes.get(path) == salted_hash(extractor, item.data):
                # Same content: resolve against the very table the resolver's index holds,
                # so that index and its memos stay valid from one dependent to the next.
                ex.symbols = cache.tables.get(path, ex.symbols)
        return extracts

    def _scan(self, root: Path, paths: Sequence[str], report: IndexReport) -> list[Candidate]:
        out: list[Candidate] = []
        for item in scan(
            root, paths, max_bytes=self._max_bytes, include_generated=self._include_generated
        ):
            if isinstance(item, Skipped):
                report.skipped[item.reason] += 1
            elif self._registry.for_path(item.path) is None:
                report.unknown_extension += 1
            else:
                out.append(item)
        return out

    async def _extract(
        self,
        repo: str,
        items: Sequence[tuple[str, FileExtractor, Candidate]],
        report: IndexReport,
    ) -> dict[str, FileExtract]:
        def run() -> dict[str, FileExtract]:
            extracts = extract_files(
                repo,
                [(path, extractor, cand.data) for path, extractor, cand in items],
                lambda done, total: self._progress("extract", done, total),
            )
            out: dict[str, FileExtract] = {}
            for (path, _, _), ex in zip(items, extracts, strict=True):
                report.parse_errors += [f"{path}: {err}" for err in ex.errors]
                out[path] = ex
            return out

        with tracer.start_as_current_span(
            "pipeline.extract", attributes={"repo": repo, "files": len(items)}
        ):
            return await asyncio.to_thread(run)

    # -- history ----------------------------------------------------------------------------

    async def _index_history(self, root: Path, repo: str, report: IndexReport) -> list[GraphDelta]:
        if not is_git_repo(root):
            report.notes.append(f"{root} is not a git repository: indexed code without history")
            return []
        deltas: list[GraphDelta] = []
        ctx = RepoContext(repo=repo, root=root, file_extractor=self._registry.for_path)
        commits: list[str] = []
        for extractor in self._registry.repo_extractors():
            deltas += await self._run_repo_extractor(extractor, ctx, report, commits)
        if commits:
            # Facts derived from the new history (co-change, links to discussions), each a
            # batch computed from the store: their cost grows with what the commits touched.
            for batch in await derive_after_commits(self._store, repo, commits):
                deltas.append(await self._apply(batch, report))
        return deltas

    async def _run_repo_extractor(
        self,
        extractor: RepoExtractor,
        ctx: RepoContext,
        report: IndexReport,
        commits: list[str] | None = None,
    ) -> list[GraphDelta]:
        ok, why = await asyncio.to_thread(extractor.applies, ctx)
        if not ok:
            report.notes.append(why)
            return []
        key = f"extractor:{extractor.name}"
        state = await self._store.get_state(ctx.repo, key)
        deltas: list[GraphDelta] = []
        batches = extractor.extract_repo(ctx, state)
        while (item := await asyncio.to_thread(next, batches, None)) is not None:
            if item.note:
                report.notes.append(item.note)
            if item.state is not None:
                item.batch.state[key] = item.state
            new = [e.key for e in item.batch.entities if e.kind is EntityKind.COMMIT]
            report.commits += len(new)
            if commits is not None:
                commits += new
            deltas.append(await self._apply(item.batch, report))
            self._progress(extractor.name, report.commits, 0)
        return deltas

    # -- store, vectors, bus ----------------------------------------------------------------

    def _repository_batch(self, repo: str, root: Path) -> Batch:
        entity = Entity.make(
            EntityKind.REPOSITORY,
            repo,
            "",
            name=repo,
            owner=f"repo:{repo}",
            attrs={"root": str(root)},
        )
        return Batch(repo=repo, entities=[entity])

    async def _apply(self, batch: Batch, report: IndexReport) -> GraphDelta:
        delta = await self._write(batch)
        await self._applied(batch, delta, report)
        return delta

    async def _apply_all(
        self, batches: Iterable[Batch] | AsyncIterable[Batch], report: IndexReport
    ) -> list[GraphDelta]:
        """``_apply`` batches of disjoint scopes with up to the store's ``concurrent_applies``
        writes in flight; deltas, counts and embedding follow batch order."""

        async def then(batch: Batch, delta: GraphDelta) -> None:
            await self._applied(batch, delta, report)

        window = self._store.concurrent_applies
        return await apply_in_order(self._write, window, batches, then)

    async def _write(self, batch: Batch) -> GraphDelta:
        with tracer.start_as_current_span(
            "pipeline.apply",
            attributes={
                "repo": batch.repo,
                "entities": len(batch.entities),
                "relations": len(batch.relations),
            },
        ):
            return await self._store.apply(batch)

    async def _applied(self, batch: Batch, delta: GraphDelta, report: IndexReport) -> None:
        report.count(delta)
        if self._embedding is not None:
            started = time.perf_counter()
            report.embedded += await self._embedding.process(batch.documents, delta.removed)
            report.embed_seconds += time.perf_counter() - started

    async def _publish(self, delta: GraphDelta) -> None:
        if self._bus is None or delta.is_empty:
            return
        await self._bus.publish(
            Event.of("graph.delta", repo=delta.repo, payload=delta.model_dump())
        )


def _by_extractor(
    candidates: Mapping[str, tuple[FileExtractor, Candidate]],
) -> dict[str, FileExtractor]:
    return {extractor.name: extractor for extractor, _ in candidates.values()}
