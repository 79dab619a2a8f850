"""The pipeline's CPU-bound code stages, extraction and resolution, on two cores when large.

Both run in a worker thread; past a size where a fork pays for itself (about half a second of
work) :func:`kg.parallel.stream_fork` hands a share to a forked child, which inherits the
extractors, symbol tables and resolver index copy-on-write and sends its results back as
:mod:`kg.wire` rows, a chunk of files at a time. Results are the same either way
(``tests/e2e/test_pipeline_parallel.py``)::

    extracts = extract_files("repo", [(path, extractor, data)], progress)
    resolved = resolve_files("repo", list(zip(paths, extracts)), tables, resolver_of)
    async with Resolution("repo", items, tables, resolver_of) as resolution:
        async for part in resolution.parts(most=200):  # while the rest is still resolving
            ...
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType

from extractors.base import FileExtract, FileExtractor, Resolver, SourceFile, SymbolTable
from kg.impact import uses_of
from kg.model import Entity, Relation
from kg.parallel import stream_fork
from kg.wire import (
    Row,
    entities_from_columns,
    entity_columns,
    extract_from_row,
    extract_row,
    relation_columns,
    relations_from_columns,
)

# Work below these sizes stays in process (a fork of a large heap costs tens of
# milliseconds): about half a second of extraction or resolution, so an edit never forks.
FORK_EXTRACT_BYTES = 1_000_000
FORK_RESOLVE_REFERENCES = 30_000
# Files per record a forked worker sends back: small enough that the parent can write the
# first results to the store while the child is still resolving the rest.
CHUNK = 32
# The parent's share of resolution is the smaller one: it also writes to the store meanwhile.
RESOLVE_CHILD_SHARE = 0.75

Progress = Callable[[int, int], None]  # (done, total), called in the calling process only


@dataclass(slots=True)
class Resolved:
    """One file's resolution: its edges and entities, and what the repository cache keeps of
    it (``deps`` None: no resolver for its language)."""

    path: str
    relations: list[Relation] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    deps: set[str] | None = None
    uses: frozenset[str] = frozenset()

    def row(self) -> Row:
        return (
            self.path,
            relation_columns(self.relations),
            entity_columns(self.entities),
            None if self.deps is None else sorted(self.deps),
            sorted(self.uses),
        )

    @staticmethod
    def from_row(row: Row) -> Resolved:
        path, relations, entities, deps, uses = row
        return Resolved(
            path,
            relations_from_columns(relations),
            entities_from_columns(entities),
            None if deps is None else set(deps),
            frozenset(uses),
        )


def extract_files(
    repo: str, items: Sequence[tuple[str, FileExtractor, bytes]], progress: Progress
) -> list[FileExtract]:
    """Each file's extract, in ``items`` order."""
    extracts: list[FileExtract] = []

    def work(part: Sequence[tuple[str, FileExtractor, bytes]]) -> list[FileExtract]:
        return [
            extractor.extract_file(SourceFile(repo=repo, path=path, data=data))
            for path, extractor, data in part
        ]

    def deliver(part: list[FileExtract]) -> None:
        extracts.extend(part)
        progress(len(extracts), len(items))

    stream_fork(
        items,
        work,
        weight=lambda item: len(item[2]),
        min_weight=FORK_EXTRACT_BYTES,
        encode=extract_row,
        decode=extract_from_row,
        deliver=deliver,
        chunk=CHUNK,
    )
    if not items:
        progress(0, 0)
    return extracts


def resolve_files(
    repo: str,
    items: Sequence[tuple[str, FileExtract]],
    tables: Mapping[str, SymbolTable],
    resolver_of: Mapping[str, Resolver | None],
    deliver: Callable[[list[Resolved]], object] | None = None,
) -> list[Resolved]:
    """Each file's resolution against ``tables``, in ``items`` order; ``resolver_of`` maps
    every path to its language's resolver (asked for before any fork). With ``deliver`` the
    results go there as they are done (in order, a chunk at a time) and none are returned."""
    out: list[Resolved] = []

    def work(part: Sequence[tuple[str, FileExtract]]) -> list[Resolved]:
        done: list[Resolved] = []
        for path, ex in part:
            resolver = resolver_of.get(path)
            if resolver is None:
                done.append(Resolved(path))
                continue
            batch = resolver.resolve(repo, ex, tables)
            deps = resolver.depends_on(ex.symbols, tables) - {path}
            done.append(Resolved(path, batch.relations, batch.entities, deps, uses_of(ex)))
        return done

    stream_fork(
        items,
        work,
        weight=lambda item: len(item[1].references) + 10,
        min_weight=FORK_RESOLVE_REFERENCES,
        encode=Resolved.row,
        decode=Resolved.from_row,
        deliver=deliver if deliver is not None else out.extend,
        chunk=CHUNK,
        child_share=RESOLVE_CHILD_SHARE,
    )
    return out


class Resolution:
    """:func:`resolve_files` in a worker thread, its results readable as they are done, so
    the store can take the first files' edges while the rest are still being resolved.

    Leaving the ``async with`` waits for the thread (also when the reader failed): nothing
    keeps computing against a cache the caller may be about to drop."""

    def __init__(
        self,
        repo: str,
        items: Sequence[tuple[str, FileExtract]],
        tables: Mapping[str, SymbolTable],
        resolver_of: Mapping[str, Resolver | None],
    ) -> None:
        self._args = (repo, items, tables, resolver_of)
        self._queue: asyncio.Queue[list[Resolved] | None] = asyncio.Queue()
        self._task: asyncio.Future[list[Resolved]] | None = None

    async def __aenter__(self) -> Resolution:
        loop = asyncio.get_running_loop()

        def deliver(part: list[Resolved]) -> None:
            loop.call_soon_threadsafe(self._queue.put_nowait, part)

        task = asyncio.ensure_future(asyncio.to_thread(resolve_files, *self._args, deliver))
        # Scheduled after every delivery the thread made: the end marker comes last.
        task.add_done_callback(lambda _: self._queue.put_nowait(None))
        self._task = task
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    async def parts(self, most: int, least: int = 1) -> AsyncIterator[list[Resolved]]:
        """The results in ``items`` order, in lists of ``least`` to ``most`` (the last one
        may be shorter): each what has arrived by the time the reader asks, so a slow reader
        takes bigger lists. Raises the resolution's error, if any, after the results
        delivered before it."""
        assert self._task is not None, "use Resolution in async with"
        pending: list[Resolved] = []
        ended = False
        while True:
            while not ended and len(pending) < least:
                ended = self._take(await self._queue.get(), pending)
            while not ended and not self._queue.empty():
                ended = self._take(self._queue.get_nowait(), pending)
            if pending:
                yield pending[:most]
                del pending[:most]
            elif ended:
                await self._task  # its error, if it failed
                return

    @staticmethod
    def _take(part: list[Resolved] | None, pending: list[Resolved]) -> bool:
        if part is None:
            return True
        pending.extend(part)
        return False
